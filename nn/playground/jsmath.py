"""Math.sin, Math.cos and Math.log exactly as the original playground's JavaScript engine computes them.

V8 (Chrome, Node) computes these with fdlibm's algorithms, which are not always correctly rounded; the C
library behind Python's `math` and NumPy is. The two differ in the last bit for a few percent of arguments
(measured: ~3% for sin/cos, ~7% for log), and the data generators feed these values into every point, so a
bit-exact reproduction of a playground run needs fdlibm's results. These are the fdlibm 5.3 algorithms:

* sin/cos: reduce x to y = x - n pi/2 (y as a head + tail pair, pi/2 split into 33-bit pieces and refined
  up to three times when cancellation is large), then a degree-13 odd / degree-14 even minimax polynomial
  on |y| <= pi/4, chosen by n mod 4.
* log: write x = 2^k (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2); s = f / (2 + f);
  log(1 + f) = f - s (f - R(s^2)) with a degree-14 minimax R; log x = k ln2_hi + (log(1 + f) + k ln2_lo).

Arguments beyond |x| ~ 2^19 pi/2 (about 8e5) would need fdlibm's multi-precision reduction; there the
functions fall back to the C library (correct to within an ulp, but not bit-exact to V8).
"""
import math
import struct


def _high_word(x: float) -> int:
    """The upper 32 bits of x's IEEE 754 pattern, as a signed 32-bit integer (fdlibm's GET_HIGH_WORD)."""
    high = struct.unpack("<Q", struct.pack("<d", x))[0] >> 32
    return high - (1 << 32) if high & 0x80000000 else high


def _low_word(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0] & 0xFFFFFFFF


def _with_words(high: int, low: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", ((high & 0xFFFFFFFF) << 32) | low))[0]


# pi/2 as pio2_1 + pio2_2 + pio2_3 + pio2_3t, each head with 33 significant bits so n * head is exact.
_INV_PIO2 = 6.36619772367581382433e-01
_PIO2_1 = 1.57079632673412561417e+00
_PIO2_1T = 6.07710050650619224932e-11
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_2T = 2.02226624879595063154e-21
_PIO2_3 = 2.02226624871116645580e-21
_PIO2_3T = 8.47842766036889956997e-32
# High words of n pi/2 for n = 1..32: arguments this close to a multiple of pi/2 need the refined reduction.
_NEAR_MULTIPLE_HIGH_WORDS = (
    0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C, 0x4025FDBB, 0x402921FB,
    0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C, 0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB,
    0x403AB41B, 0x403C463A, 0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
    0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB, 0x404858EB, 0x404921FB,
)
_MEDIUM_LIMIT_HIGH_WORD = 0x413921FB  # |x| ~<= 2^19 pi/2


def _reduce(x: float) -> tuple[int, float, float]:
    """(n, head, tail) with x = n pi/2 + head + tail and |head + tail| <= pi/4 (fdlibm rem_pio2)."""
    hx = _high_word(x)
    ix = hx & 0x7FFFFFFF
    if ix < 0x4002D97C:  # |x| < 3 pi/4: n = +-1, no multiplication needed
        sign = 1 if hx > 0 else -1
        z = x - sign * _PIO2_1
        if ix != 0x3FF921FB:  # 33 + 53 bits of pi/2 are enough
            head = z - sign * _PIO2_1T
            return sign, head, (z - head) - sign * _PIO2_1T
        z -= sign * _PIO2_2  # x is near pi/2: use 33 + 33 + 53 bits
        head = z - sign * _PIO2_2T
        return sign, head, (z - head) - sign * _PIO2_2T
    t = abs(x)
    n = int(t * _INV_PIO2 + 0.5)
    fn = float(n)
    r = t - fn * _PIO2_1
    w = fn * _PIO2_1T
    head = r - w
    if not (n < 32 and ix != _NEAR_MULTIPLE_HIGH_WORDS[n - 1]):
        exponent = ix >> 20
        if exponent - ((_high_word(head) >> 20) & 0x7FF) > 16:  # cancellation: second iteration
            t = r
            w = fn * _PIO2_2
            r = t - w
            w = fn * _PIO2_2T - ((t - r) - w)
            head = r - w
            if exponent - ((_high_word(head) >> 20) & 0x7FF) > 49:  # third iteration
                t = r
                w = fn * _PIO2_3
                r = t - w
                w = fn * _PIO2_3T - ((t - r) - w)
                head = r - w
    tail = (r - head) - w
    if hx < 0:
        return -n, -head, -tail
    return n, head, tail


_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


def _kernel_sin(x: float, tail: float, has_tail: bool) -> float:
    """sin(x + tail) for |x + tail| <= pi/4."""
    if (_high_word(x) & 0x7FFFFFFF) < 0x3E400000:  # |x| < 2^-27: sin x rounds to x
        return x
    z = x * x
    v = z * x
    r = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    if not has_tail:
        return x + v * (_S1 + z * r)
    return x - ((z * (0.5 * tail - v * r) - tail) - v * _S1)


def _kernel_cos(x: float, tail: float) -> float:
    """cos(x + tail) for |x + tail| <= pi/4."""
    ix = _high_word(x) & 0x7FFFFFFF
    if ix < 0x3E400000:  # |x| < 2^-27: cos x rounds to 1
        return 1.0
    z = x * x
    r = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    if ix < 0x3FD33333:  # |x| < 0.3
        return 1.0 - (0.5 * z - (z * r - x * tail))
    # Subtract a round qx from both 1 and z/2 so that 1 - z/2 loses no bits.
    qx = 0.28125 if ix > 0x3FE90000 else _with_words(ix - 0x00200000, 0)
    hz = 0.5 * z - qx
    return (1.0 - qx) - (hz - (z * r - x * tail))


def sin(x: float) -> float:
    """JavaScript's Math.sin(x) (V8 / fdlibm), bit for bit for |x| <= ~8e5."""
    x = float(x)
    ix = _high_word(x) & 0x7FFFFFFF
    if ix <= 0x3FE921FB:  # |x| <= pi/4
        return _kernel_sin(x, 0.0, False)
    if ix >= 0x7FF00000 or ix > _MEDIUM_LIMIT_HIGH_WORD:
        return math.sin(x) if math.isfinite(x) else math.nan
    n, head, tail = _reduce(x)
    quadrant = n & 3
    if quadrant == 0:
        return _kernel_sin(head, tail, True)
    if quadrant == 1:
        return _kernel_cos(head, tail)
    if quadrant == 2:
        return -_kernel_sin(head, tail, True)
    return -_kernel_cos(head, tail)


def cos(x: float) -> float:
    """JavaScript's Math.cos(x) (V8 / fdlibm), bit for bit for |x| <= ~8e5."""
    x = float(x)
    ix = _high_word(x) & 0x7FFFFFFF
    if ix <= 0x3FE921FB:  # |x| <= pi/4
        return _kernel_cos(x, 0.0)
    if ix >= 0x7FF00000 or ix > _MEDIUM_LIMIT_HIGH_WORD:
        return math.cos(x) if math.isfinite(x) else math.nan
    n, head, tail = _reduce(x)
    quadrant = n & 3
    if quadrant == 0:
        return _kernel_cos(head, tail)
    if quadrant == 1:
        return -_kernel_sin(head, tail, True)
    if quadrant == 2:
        return -_kernel_cos(head, tail)
    return _kernel_sin(head, tail, True)


_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_TWO54 = 1.80143985094819840000e+16
_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
_LG4, _LG5, _LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


def log(x: float) -> float:
    """JavaScript's Math.log(x) (V8 / fdlibm), bit for bit. log(0) = -inf, log(x < 0) = nan."""
    x = float(x)
    hx = _high_word(x)
    k = 0
    if hx < 0x00100000:  # x < 2^-1022: zero, negative or subnormal
        if x == 0:
            return -math.inf
        if hx < 0:
            return math.nan
        k -= 54
        x *= _TWO54  # scale a subnormal up
        hx = _high_word(x)
    if hx >= 0x7FF00000:
        return x + x
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    x = _with_words(hx | (i ^ 0x3FF00000), _low_word(x))  # normalise x or x/2 into [sqrt(2)/2, sqrt(2))
    k += i >> 20
    f = x - 1.0
    dk = float(k)
    if (0x000FFFFF & (2 + hx)) < 3:  # |f| < 2^-20: a short series is exact enough
        if f == 0:
            return 0.0 if k == 0 else dk * _LN2_HI + dk * _LN2_LO
        r = f * f * (0.5 - 0.33333333333333333 * f)
        return f - r if k == 0 else dk * _LN2_HI - ((r - dk * _LN2_LO) - f)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    if ((hx - 0x6147A) | (0x6B851 - hx)) > 0:  # f is far from 0: use f^2/2 for accuracy
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + r))
        return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    if k == 0:
        return f - s * (f - r)
    return dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)
