"""The random stream of the original playground: `Math.seedrandom(seed)` of seedrandom 2.4.4.

The playground seeds everything (data, shuffle, initial weights) from one stream, so reproducing a run
from its URL needs this exact stream, bit for bit:

* Key: the seed string's UTF-16 code units c_j are mixed into a key of at most 256 bytes:
  smear ^= key[j mod 256] * 19;  key[j mod 256] = (smear + c_j) mod 256   (missing entries count as 0).
  An empty key acts as [0].
* ARC4 (RC4) with that key; the first 256 output bytes are discarded (RC4-drop[256]).
* random(): take 6 bytes as a big-endian numerator n < 2^48 over d = 2^48; while n < 2^52, append one more
  byte (n = (n + x) * 256, d *= 256, x = next byte); then shift n, d and x right until n < 2^53;
  return (n + x) / d, a double in [0, 1) with all 52 mantissa bits random.
"""
import math

import numpy as np

from nn.playground import jsmath

_BYTE = 256
_FIRST_BYTES = 6  # bytes that start every double
_SIGNIFICANCE = 2**52
_OVERFLOW = 2**53
_REFILL_BYTES = 1024  # keystream bytes made per refill: one tight loop instead of a call per byte (a spiral
# of 500 points and a net of C2 use about 13,000)


def _mix_key(seed: str) -> list[int]:
    """The ARC4 key seedrandom's mixkey derives from a seed string (JavaScript charCodeAt = UTF-16 units)."""
    utf16 = seed.encode("utf-16-le", "surrogatepass")
    code_units = [int.from_bytes(utf16[k:k + 2], "little") for k in range(0, len(utf16), 2)]
    key: list[int] = []
    smear = 0
    for j, unit in enumerate(code_units):
        slot = j % _BYTE
        if slot == len(key):
            key.append(0)  # JavaScript reads the missing entry as undefined, which XORs as 0
        smear ^= key[slot] * 19
        key[slot] = (smear + unit) % _BYTE
    return key


class SeedRandom:
    """`SeedRandom(seed)` yields the values `Math.random()` yields after `Math.seedrandom(seed)`.

    The helpers reproduce the playground's float operations in its order, so results match bit for bit:
    uniform(a, b) = random() * (b - a) + a, normal(mean, variance) by the Marsaglia polar method.
    """

    def __init__(self, seed: str):
        if not isinstance(seed, str):
            raise ValueError(f"seed: {seed!r} is not allowed; expected a string")
        key = _mix_key(seed) or [0]
        state = list(range(_BYTE))
        j = 0
        for i in range(_BYTE):
            j = (j + key[i % len(key)] + state[i]) % _BYTE
            state[i], state[j] = state[j], state[i]
        self._state = state
        self._i = 0
        self._j = 0
        self._keystream(_BYTE)  # RC4-drop[256]
        self._buffer = b""
        self._position = 0

    def _keystream(self, count: int) -> bytes:
        """The next `count` ARC4 output bytes."""
        state, i, j = self._state, self._i, self._j
        out = bytearray(count)
        for k in range(count):
            i = (i + 1) & 255
            t = state[i]
            j = (j + t) & 255
            state[i] = state[j]
            state[j] = t
            out[k] = state[(state[i] + t) & 255]
        self._i, self._j = i, j
        return bytes(out)

    def _take(self, count: int) -> int:
        """The next `count` stream bytes as one big-endian integer (seedrandom's arc4.g(count))."""
        if self._position + count > len(self._buffer):
            self._buffer = self._buffer[self._position:] + self._keystream(_REFILL_BYTES)
            self._position = 0
        start = self._position
        self._position = start + count
        return int.from_bytes(self._buffer[start:start + count], "big")

    def random(self) -> float:
        """The next double in [0, 1)."""
        # The first round of the loop below always runs (6 bytes are < 2^48 < 2^52): it multiplies by 256
        # and takes one more byte, so take all 7 bytes in one go.
        numerator = self._take(_FIRST_BYTES + 1)
        numerator, extra = numerator - (numerator & 0xFF), numerator & 0xFF
        denominator = _BYTE**(_FIRST_BYTES + 1)
        while numerator < _SIGNIFICANCE:
            numerator = (numerator + extra) * _BYTE
            denominator *= _BYTE
            extra = self._take(1)
        while numerator >= _OVERFLOW:
            # Exact integer halving, as seedrandom's float halving of these integers is exact.
            numerator >>= 1
            denominator >>= 1
            extra >>= 1
        return (numerator + extra) / denominator

    def uniform(self, a: float, b: float) -> float:
        """random() * (b - a) + a: the playground's randUniform, same operation order."""
        return self.random() * (b - a) + a

    def normal(self, mean: float = 0.0, variance: float = 1.0) -> float:
        """The playground's normalRandom (Marsaglia polar method).

        Draw v1 = 2 r - 1, v2 = 2 r - 1 until s = v1^2 + v2^2 <= 1; return mean + sqrt(variance) *
        (sqrt(-2 ln(s) / s) * v1). v2 is drawn and discarded as in the original; ln is JavaScript's Math.log.
        """
        while True:
            v1 = 2 * self.random() - 1
            v2 = 2 * self.random() - 1
            s = v1 * v1 + v2 * v2
            if s <= 1:
                break
        result = math.sqrt(-2 * jsmath.log(s) / s) * v1  # Math.log: fdlibm's, see jsmath
        return mean + math.sqrt(variance) * result

    def randoms(self, count: int) -> np.ndarray:
        """The next `count` random() values as a float64 array."""
        return np.array([self.random() for _ in range(count)], dtype=np.float64)
