"""The playground's network, trained the way the original's nn.ts trains it, vectorized per minibatch.

nn.ts walks the training set one example at a time: forward, backward, add each derivative to an
accumulator, and every `batchSize` examples move every parameter by the mean of what it accumulated.
Within a batch the weights are fixed, so the sum of the per-example derivatives is one matrix
product over the batch; that is the only change made here. The update keeps nn.ts's order of
operations, so results agree with the original to float rounding.

Layout (these nets are tiny, so time goes to the number of NumPy calls and to how much each call
costs, not to arithmetic; every matrix a product reads is a contiguous block, or the transpose of
one, which keeps each call on BLAS's fast path):
- Examples are columns. A layer's input is [a; 1] of shape (n_in + 1, rows): the row of ones carries
  the bias. Layer l's parameters are one block [W; b] of shape (n_{l-1} + 1, n_l), the contract's
  (W, b) with b as the last row, so
      forward        z = [W; b]^T @ [a; 1]           one call
      backward   dL/da = W @ dL/dz                     one call (W: the block's first rows, contiguous)
      gradient   dL/d[W; b] = [a; 1] @ (dL/dz)^T       one call, summed over the batch
- All parameters of S stacked models live in one flat buffer `params` (S, P), so an update is a few
  calls over everything; `layer_params[l]` is layer l's block as a view (S, n_{l-1} + 1, n_l).
  `grads` has the same layout.
- The hidden layers' outputs (each followed by its row of ones) and the output layer's output are
  stacked in one buffer per batch size, so one call gives the derivative of every layer. The pass
  buffers are (units, S, rows): a layer's rows for all S models are one contiguous block, which
  elementwise calls run over several times faster than over S strided pieces; inputs and targets
  come as (S, n, rows), and products see each model's matrix through a (S, n, rows) view.
- With S == 1 the stack axis is dropped from every view and products use the left matrix's bound
  ndarray.dot, prepared once per plan (Network._times): the method skips the __array_function__
  dispatch np.dot goes through, which costs as much as a small product itself, and np.matmul costs
  more again on matrices this small. With S > 1 np.matmul broadcasts over the stack.
- Ufuncs get their output buffer positionally and never through `a *= b`: both cost a little on
  every one of the thousands of calls an epoch makes.
- A pass makes the same calls on the same buffers every time, so a plan binds each call once
  (functools.partial) and a pass replays the list; the training batches keep theirs with the inputs
  and targets bound too (Batches.steps), and the update its own (Network.update_calls). What a step
  then costs is the calls themselves.
"""
from __future__ import annotations

import functools

import numpy as np

from nn.activations import get_activation

#: Output units, and dL/dz at the output in terms of (out - target):
#: "tanh": out = tanh(z), half squared error       -> dL/dz = (out - t) (1 - out^2)
#: "linear": out = z, half squared error           -> dL/dz = (out - t)
#: "logistic": out = tanh(z / 2) = 2 sigmoid(z) - 1, binary cross-entropy with p = (out + 1) / 2 and
#:             t01 = (t + 1) / 2                   -> dL/dz = p - t01 = (out - t) / 2
#: "softmax": out = softmax(z), cross-entropy against one-hot targets -> dL/dz = out - t
OUTPUTS = ("tanh", "linear", "logistic", "softmax")

#: Activations whose derivative is a function of the output y alone (tanh 1 - y^2, sigmoid y (1 - y),
#: relu/leakyrelu/elu: y > 0 exactly where x > 0, softplus 1 - e^-y, linear 1): for these, one call
#: takes the derivative of every hidden layer at once, passing y for x.
OUTPUT_DETERMINED = frozenset({"tanh", "sigmoid", "relu", "leakyrelu", "elu", "softplus", "linear"})


#: 0.5 and 0 as arrays: ufuncs convert a Python float on every call, which costs as much as the arithmetic.
_HALF, _ZERO = np.array(0.5), np.array(0.0)


def _t(a):
    """Swap the last two axes: a matrix transpose that also works on a stack of matrices."""
    return np.swapaxes(a, -1, -2)


class _Plan:
    """Preallocated buffers for one forward/backward pass over `rows` examples (columns here)."""

    def __init__(self, net: "Network", rows: int):
        S, sizes, L = net.stack, net.sizes, net.num_layers
        # Units first, then models, then examples: each layer's rows for every model are one block, so
        # the elementwise calls run over contiguous memory; with S == 1 the models axis is dropped.
        squeeze = (lambda a: a[:, 0]) if S == 1 else (lambda a: a)
        self.models_first = net._models_first  # (n, S, rows) <-> (S, n, rows), for the products
        self.fresh = None  # (id of the inputs, network version) of the last loss pass through this plan
        starts = np.cumsum([0] + [n + 1 for n in sizes[1:L]]).tolist()  # where layer l's block starts
        self.h = squeeze(np.ones((starts[-1] + sizes[L], S, rows)))  # [a_1; 1; a_2; 1; ...; out]
        self.deriv_all = squeeze(np.zeros((starts[-1] + sizes[L], S, rows)))
        self.a_ext = [None] * L  # [a_l; 1]; index 0 unused (the inputs come from the data)
        self.act_out = [None] * (L + 1)  # where f(z_l) is written
        self.rows = [None] * (L + 1)  # the rows of h that hold f(z_l)
        self.deriv = [None] * (L + 1)
        self.z, self.dz, self.da = ([None] * (L + 1) for _ in range(3))
        for l in range(1, L + 1):
            n, start = sizes[l], starts[l - 1]
            self.z[l], self.dz[l], self.da[l] = (squeeze(np.empty((n, S, rows))) for _ in range(3))
            self.rows[l] = slice(start, start + n)
            self.act_out[l] = self.h[self.rows[l]]
            self.deriv[l] = self.deriv_all[self.rows[l]]
            if l < L:
                self.a_ext[l] = self.h[start:start + n + 1]
        if net.output == "linear":
            self.act_out[L] = self.z[L]  # the identity needs no copy
        self.out = self.act_out[L]
        self.dz_t = [None] + [_t(self.models_first(dz)) for dz in self.dz[1:]]  # (S, rows, n_l)
        # Loss passes: each example's loss (row 0) and whether it is classified right (row 1), and
        # which set each example is in (by_set), so one product sums both rows over both sets.
        self.per_example = squeeze(np.zeros((2, S, rows)))
        self.loss, self.correct = self.per_example[0], self.per_example[1]
        self.scratch = (self.per_example[0:1] if sizes[L] == 1  # the loss row itself
                        else squeeze(np.empty((sizes[L], S, rows))))
        self._by_set = (None, None)
        # A pass is the same NumPy calls on the same buffers every time, so each call is bound here,
        # once, and a pass replays them; only the inputs and targets change from pass to pass.
        self._times, self._first_grad = net._times, net.layer_grads[1]
        self.first_product = net._times(net._forward_weights[1])
        self.forward_calls = self._bind_forward(net)
        self.backward_calls = self._bind_backward(net, hidden_rows=slice(0, starts[-1]))

    def _bind_forward(self, net):
        """z_1 = [W_1; b_1]^T @ [x; 1] takes the inputs (first_product, see forward); then the calls
        a_1 = f_1(z_1), and for l = 2..L: z_l = [W_l; b_l]^T @ [a_{l-1}; 1], a_l = f_l(z_l) (f_L: the
        output's, see OUTPUTS)."""
        L, calls = net.num_layers, []
        for l in range(1, L + 1):
            if l > 1:
                calls.append(functools.partial(net._times(net._forward_weights[l]),
                                               self.models_first(self.a_ext[l - 1]), self.models_first(self.z[l])))
            if l < L:
                calls.append(net.activations[l].bind(self.z[l], self.act_out[l]))
            else:
                calls += _output_calls(net.output, self.z[L], self.out)
        return calls

    def _bind_backward(self, net, hidden_rows):
        """The calls after dL/dz_L = (out - t) (see backward): f_l'(z_l) of the hidden layers (one call
        when their derivative is a function of y alone), dL/dz_L as listed in OUTPUTS, then for
        l = L..2:
            dL/d[W_l; b_l] = [a_{l-1}; 1] @ (dL/dz_l)^T,  dL/da_{l-1} = W_l @ dL/dz_l,
            dL/dz_{l-1} = dL/da_{l-1} * f_{l-1}'(z_{l-1}).
        The first layer's gradient, [x; 1] @ (dL/dz_1)^T, takes the inputs (see backward)."""
        L, partial = net.num_layers, functools.partial
        if net._shared_derivative is None:
            calls = [net.activations[l].bind_derivative(self.z[l], self.act_out[l], self.deriv[l])
                     for l in range(1, L)]
        elif net._output_shares_derivative:  # f' of every hidden layer and of a tanh output: one call
            calls = [net._shared_derivative.bind_derivative(self.h, self.h, self.deriv_all)]
        else:  # the hidden layers' rows (with their rows of ones, harmless)
            span, deriv = self.h[hidden_rows], self.deriv_all[hidden_rows]
            calls = [net._shared_derivative.bind_derivative(span, span, deriv)]
        out, dz_out = self.out, self.dz[L]
        if net.output == "tanh":
            if not net._output_shares_derivative:
                calls.append(net._output_tanh.bind_derivative(out, out, self.deriv[L]))
            calls.append(partial(np.multiply, dz_out, self.deriv[L], dz_out))
        elif net.output == "logistic":
            calls.append(partial(np.multiply, dz_out, _HALF, dz_out))
        for l in range(L, 1, -1):
            calls += [partial(net._times(self.models_first(self.a_ext[l - 1])), self.dz_t[l], net.layer_grads[l]),
                      partial(net._times(net._back_weights[l]), self.models_first(self.dz[l]),
                              self.models_first(self.da[l - 1])),
                      partial(np.multiply, self.da[l - 1], self.deriv[l - 1], self.dz[l - 1])]
        return calls

    def by_set(self, n_train: int):
        """(rows, 2): column 0 picks the first n_train examples (the training set), column 1 the rest."""
        if self._by_set[0] != n_train:
            by_set = np.zeros((self.per_example.shape[-1], 2))
            by_set[:n_train, 0] = by_set[n_train:, 1] = 1.0
            self._by_set = (n_train, by_set)
        return self._by_set[1]

    def forward(self, x):
        """The calls of a forward pass over x [x; 1] (n_0 + 1, rows), in order; the output lands in out."""
        return [functools.partial(self.first_product, x, self.models_first(self.z[1])), *self.forward_calls]

    def backward(self, x, t):
        """The calls of a backward pass after forward(x), for targets t (n_L, rows): they leave the sum
        over the examples of dL/dparams in the network's grads (see Network.backward)."""
        return [functools.partial(np.subtract, self.out, self.models_first(t), self.dz[-1]), *self.backward_calls,
                functools.partial(self._times(x), self.dz_t[1], self._first_grad)]


def _output_calls(output, z, out):
    """The calls that write the output layer's activation of z into out (none for "linear", whose
    out is z itself); see OUTPUTS."""
    if output == "tanh":
        return [functools.partial(np.tanh, z, out)]
    if output == "logistic":  # tanh(z / 2)
        return [functools.partial(np.multiply, z, _HALF, out), functools.partial(np.tanh, out, out)]
    if output == "softmax":
        return [functools.partial(_softmax, z, out)]
    return []


def _softmax(z, out):
    """out = softmax(z) over the units (axis 0), shifted by the largest z so exp cannot overflow."""
    np.subtract(z, z.max(axis=0, keepdims=True), out)
    np.exp(out, out)
    np.divide(out, out.sum(axis=0, keepdims=True), out)


class Batches:
    """The training columns split, in order, into contiguous minibatches of `size` and a leftover.

    full: [(inputs (n_0 + 1, size), targets (n_L, size))]; leftover: the same for the last N % size
    columns, or None. (With S > 1 every array has the stack axis in front.) The full batches are views
    of one array each for inputs and targets, so refill() puts in a new order with a copy apiece. One
    batch of the whole set is the given arrays themselves, so the loss pass over them is recognised as
    the next epoch's forward pass (Network.train_epoch).
    """

    def __init__(self, inputs, targets, size: int):
        N, count = inputs.shape[-1], inputs.shape[-1] // size
        self.size = size
        if count == 1 and N == size:
            self._blocks = None
            self.full = [(np.ascontiguousarray(inputs), np.ascontiguousarray(targets))]
        else:
            self._blocks = [np.empty((count,) + a.shape[:-1] + (size,), a.dtype) for a in (inputs, targets)]
            self.full = list(zip(*self._blocks))
        self.leftover = tuple(np.empty(a.shape[:-1] + (N % size,), a.dtype) for a in (inputs, targets)
                              ) if N % size else None
        self.refill(inputs, targets)
        self._steps = (None, [])

    def refill(self, inputs, targets):
        """Copy inputs and targets (the sizes given at the start, the columns in any order) into the
        batches' arrays, which for one batch of the whole set are the arrays given at the start."""
        count, size = len(self.full), self.size
        for k, a in enumerate((inputs, targets)):
            if self._blocks is None:
                np.copyto(self.full[0][k], a)
            else:  # (..., count * size) -> (count, ..., size): batch j is columns j*size to (j+1)*size
                np.copyto(self._blocks[k], np.moveaxis(a[..., :count * size].reshape(
                    a.shape[:-1] + (count, size)), -2, 0))
            if self.leftover is not None:
                np.copyto(self.leftover[k], a[..., count * size:])

    def steps(self, plan: _Plan):
        """[(forward calls, backward calls)] of each full batch, bound to plan's buffers: a training
        step replays them (built once for each plan these batches train)."""
        if self._steps[0] is not plan:
            self._steps = (plan, [(plan.forward(x), plan.backward(x, t)) for x, t in self.full])
        return self._steps[1]


class Network:
    """S stacked fully connected nets of one shape, trained exactly like nn.ts.

    sizes: [n_0 (inputs), n_1, ..., n_L (outputs)]; hidden_activations: one name per hidden layer
    (see nn.activations.ACTIVATIONS); output: one of OUTPUTS.
    """

    def __init__(self, sizes, hidden_activations, output: str, stack: int = 1):
        if output not in OUTPUTS:
            raise ValueError(f"output: {output!r} is not one of {OUTPUTS}")
        if len(hidden_activations) != len(sizes) - 2:
            raise ValueError(f"hidden_activations: {len(hidden_activations)} names for {len(sizes) - 2} hidden layers")
        self.sizes = [int(n) for n in sizes]
        self.num_layers = L = len(sizes) - 1
        self.stack = S = int(stack)
        self.output = output
        self.activations = [None] + [get_activation(name) for name in hidden_activations]
        self._offsets = [0]
        for l in range(1, L + 1):
            self._offsets.append(self._offsets[-1] + (self.sizes[l - 1] + 1) * self.sizes[l])
        size = self._offsets[-1]
        self.params = np.zeros((S, size))
        self.grads = np.zeros((S, size))
        self.dead = np.zeros((S, size), dtype=bool)
        self._alive = np.ones((S, size))
        self._carry = np.zeros((S, size))  # derivative sums of leftover examples, for the next update
        self._carried = 0
        self._reg, self._product = np.zeros((S, size)), np.zeros((S, size))
        self._crossed = np.zeros((S, size), dtype=bool)
        self.is_weight = np.zeros(size)  # 1 where an entry is a weight (regularised), 0 for biases
        for l in range(1, L + 1):
            self._layer_view(self.is_weight[None], l)[..., :-1, :] = 1.0
        self.layer_params = [None] + [self._layer_view(self.params, l) for l in range(1, L + 1)]
        self.layer_grads = [None] + [self._layer_view(self.grads, l) for l in range(1, L + 1)]
        self._forward_weights = [None] + [_t(p) for p in self.layer_params[1:]]  # [W_l; b_l]^T
        self._back_weights = [None] + [p[..., :-1, :] for p in self.layer_params[1:]]  # W_l
        names = set(hidden_activations)
        self._shared_derivative = (self.activations[1] if len(names) == 1 and names <= OUTPUT_DETERMINED
                                   else None)
        self._output_tanh = get_activation("tanh")
        self._output_shares_derivative = output == "tanh" and names <= {"tanh"}
        if self._output_shares_derivative and self._shared_derivative is None:
            self._shared_derivative = self._output_tanh  # no hidden layers: the output alone
        self._plans: dict[tuple[int, str], _Plan] = {}
        self._optimizer_state = {}
        self.version = 0  # bumped whenever parameters change, so cached grid passes know to redo

    def _models_first(self, a):
        """A plan's buffer (n, S, rows) as (S, n, rows), a view, for np.matmul over the stack (BLAS
        takes each model's rows at their stride); as it is when S == 1 (no models axis)."""
        return a if self.stack == 1 else np.swapaxes(a, 0, 1)

    def _times(self, a):
        """(b, out) -> out = a @ b: a's bound ndarray.dot for one model (see the module's notes on why
        not np.dot), np.matmul from a over a stack."""
        return a.dot if self.stack == 1 else functools.partial(np.matmul, a)

    # ---------------------------------------------------------------- parameters
    def _layer_view(self, flat, l):
        """Layer l's block [W; b] of every model, (S, n_{l-1} + 1, n_l), as a view (S dropped if 1)."""
        shape = (len(flat), self.sizes[l - 1] + 1, self.sizes[l])
        view = flat[:, self._offsets[l - 1]:self._offsets[l]].reshape(shape)
        return view[0] if self.stack == 1 else view

    def _model_layer(self, flat, model, l):
        """Layer l's block [W; b] of one model, (n_{l-1} + 1, n_l), as a view."""
        shape = (self.sizes[l - 1] + 1, self.sizes[l])
        return flat[model, self._offsets[l - 1]:self._offsets[l]].reshape(shape)

    def weights(self, model: int = 0):
        """[(W (n_in, n_out), b (n_out,)) per layer] of one model, as copies."""
        return [(self._model_layer(self.params, model, l)[:-1].copy(),
                 self._model_layer(self.params, model, l)[-1].copy())
                for l in range(1, self.num_layers + 1)]

    def dead_links(self, model: int = 0):
        """[bool (n_in, n_out) per layer]: links L1 regularisation has killed, in one model."""
        return [self._model_layer(self.dead, model, l)[:-1].copy() for l in range(1, self.num_layers + 1)]

    def set_layer(self, model: int, l: int, weight=None, bias=None, dead=None):
        """Overwrite one layer's weights W (n_in, n_out), bias (n_out,) and dead links of one model."""
        view = self._model_layer(self.params, model, l)
        if weight is not None:
            view[:-1] = weight
        if bias is not None:
            view[-1] = bias
        if dead is not None:
            self._model_layer(self.dead, model, l)[:-1] = np.asarray(dead, dtype=bool)
            np.logical_not(self.dead, out=self._crossed)
            np.copyto(self._alive, self._crossed)
        self.version += 1

    # ---------------------------------------------------------------- passes
    def plan(self, rows: int, purpose: str = "train") -> _Plan:
        """The buffers for passes over `rows` examples for one purpose: "train" (minibatches, and the loss
        pass over the training set that the next epoch may reuse), "test", "eval" (both sets at once) or
        "outputs" (grid passes). Each purpose has its own, so no pass overwrites another of the same size."""
        plan = self._plans.get((rows, purpose))
        if plan is None:
            plan = self._plans[(rows, purpose)] = _Plan(self, rows)
        return plan

    def forward(self, inputs, plan: _Plan):
        """Every layer's output for `inputs` [x; 1] (S, n_0 + 1, rows); returns plan.out (n_L, S, rows)."""
        for call in plan.forward(inputs):
            call()
        return plan.out

    def backward(self, inputs, targets, plan: _Plan):
        """Fill `grads` with the sum over the examples of dL/dparams (L = the per-example loss), after
        forward(inputs, plan).

        Output layer: dL/dz_L from (out - target) as listed in OUTPUTS. Hidden layer l:
            dL/da_l = W_{l+1} @ dL/dz_{l+1}            (n_l, rows)
            dL/dz_l = dL/da_l * f_l'(z_l)               (n_l, rows)
        and for every layer  dL/d[W_l; b_l] = [a_{l-1}; 1] @ (dL/dz_l)^T   (n_{l-1} + 1, n_l),
        which sums over the examples as nn.ts's accumulators do. inputs is [x; 1] (n_0 + 1, rows).
        The calls are bound in the plan (_Plan.backward).
        """
        for call in plan.backward(inputs, targets):
            call()

    # ---------------------------------------------------------------- training
    def train_epoch(self, batches: Batches, hyper: "Hyper"):
        """One pass over the training examples in order, as playground.ts's oneStep: an update after
        every full batch; the derivatives of the leftover examples are carried into the first update
        of the next epoch (the original never clears its accumulators between epochs)."""
        if batches.full:
            plan, update = self.plan(batches.size), self.update_calls(batches.size, hyper)
            # One batch of the whole set: the loss pass after the last epoch already ran it forward.
            done = len(batches.full) == 1 and plan.fresh == (id(batches.full[0][0]), self.version)
            for forward, backward in batches.steps(plan):
                if not done:
                    for call in forward:
                        call()
                done = False
                for call in backward:
                    call()
                calls = update
                if self._carried:  # the last epoch's leftover examples join this update
                    np.add(self.grads, self._carry, self.grads)
                    calls, self._carried = self.update_calls(batches.size + self._carried, hyper), 0
                for call in calls:
                    call()
                self.version += 1
        if batches.leftover is not None:
            x, t = batches.leftover
            plan = self.plan(x.shape[-1])
            self.forward(x, plan)
            self.backward(x, t, plan)
            if self._carried:
                np.add(self._carry, self.grads, self._carry)
            else:
                np.copyto(self._carry, self.grads)
            self._carried += x.shape[-1]

    def update(self, count: int, hyper: "Hyper"):
        """nn.ts's updateWeights, for every parameter at once.

        With g = the accumulated derivative sum and r = R'(w_old) (sign(w) for L1, w for L2, 0 for
        biases):  w1 = w_old - (lr / count) g;  w_new = w1 - (lr * reg_rate) r.  L1 only: where w1
        and w_new have opposite signs the weight becomes 0 and its link dies (never updated again).
        Our optional optimizers replace (lr / count) g by their step; the regularisation is the same.
        """
        for call in self.update_calls(count, hyper):
            call()
        self.version += 1

    def update_calls(self, count: int, hyper: "Hyper"):
        """update(count, hyper)'s calls, bound once for each count (and whether any link is dead)."""
        key = (count, hyper.any_dead)
        calls = hyper.update_calls.get(key)
        if calls is None:
            partial, params, grads = functools.partial, self.params, self.grads
            if hyper.plain_sgd:  # g *= -lr / count, as an array (see _HALF)
                scale = np.asarray(hyper.neg_lr / count)
                if scale.ndim:  # one rate per model: spelled out in full, which multiplies twice as fast
                    scale = np.ascontiguousarray(np.broadcast_to(scale, grads.shape))
                calls = [partial(np.multiply, grads, scale, grads)]
            else:
                calls = [partial(self._optimizer_step, count, hyper)]
            if hyper.any_l1 or hyper.any_dead:
                calls.append(partial(self._update_with_dead_links, hyper))
            elif hyper.any_l2:  # both steps at once: w_new = (1 - lr * reg_rate) w_old - (lr / count) g
                calls += [partial(np.multiply, params, hyper.l2_decay, params), partial(np.add, params, grads, params)]
            else:
                calls.append(partial(np.add, params, grads, params))
            hyper.update_calls[key] = calls
        return calls

    def _update_with_dead_links(self, hyper: "Hyper"):
        """The update step by step, for L1 (which kills links) and wherever links are dead."""
        params, grads, reg = self.params, self.grads, self._reg
        reg.fill(0.0)
        if hyper.any_l1:
            np.sign(params, out=reg)
            reg *= hyper.l1_step
        if hyper.any_l2:
            np.multiply(params, hyper.l2_step, out=self._product)
            reg += self._product
        if hyper.any_dead:  # nn.ts skips dead links in its update altogether
            grads *= self._alive
            reg *= self._alive
        params += grads  # w1
        if not hyper.any_l1:
            params -= reg
            return
        np.subtract(params, reg, out=reg)  # reg now holds w_new
        np.multiply(params, reg, out=self._product)
        np.less(self._product, 0.0, out=self._crossed)
        np.copyto(params, reg)
        if self._crossed.any():
            params[self._crossed] = 0.0
            self.dead |= self._crossed
            np.logical_not(self.dead, out=self._crossed)
            np.copyto(self._alive, self._crossed)
            hyper.any_dead = True

    def _optimizer_step(self, count, hyper):
        """Momentum SGD and Adam (ours): turn the mean gradient into -lr * step, in grads."""
        grads, state = self.grads, self._optimizer_state
        grads /= count
        if hyper.optimizer == "sgd":  # heavy ball: v = mu v + g; w -= lr v
            velocity = state.setdefault("velocity", np.zeros_like(grads))
            velocity *= hyper.momentum
            velocity += grads
            np.multiply(velocity, hyper.neg_lr, out=grads)
            return
        # Adam (Kingma & Ba 2015): beta1 0.9, beta2 0.999, eps 1e-8.
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        m = state.setdefault("m", np.zeros_like(grads))
        v = state.setdefault("v", np.zeros_like(grads))
        state["t"] = t = state.get("t", 0) + 1
        m *= beta1
        m += (1 - beta1) * grads
        v *= beta2
        v += (1 - beta2) * grads * grads
        step = (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        np.multiply(step, hyper.neg_lr, out=grads)

    # ---------------------------------------------------------------- evaluation
    def losses(self, passes):
        """Mean loss and accuracy over the training set and over the test set.

        passes: the forward passes that cover both sets, each (inputs (S, n_0 + 1, N), targets
        (S, n_L, N), classes (S, N), purpose, n_train): its first n_train columns are training examples,
        the rest test examples (arrays without the stack axis when S == 1; classes: each example's class
        index, 1 for the +1 class of a binary problem and 0 for the other; unused in regression). One
        pass over both sets is cheapest; with one full batch per epoch the training set gets a pass of
        its own through the training buffers, which the next epoch then reuses.
        Returns (S, 4): train loss, test loss, train accuracy, test accuracy (NaN where undefined:
        regression, or an empty set). The loss is the one trained on (half squared error as the
        original shows it; cross-entropy when chosen), without the regularisation term.
        """
        totals = np.zeros((self.stack, 2, 2))  # (summed loss, correct count) x (training set, test set)
        sizes = [0, 0]  # examples in the training set, in the test set
        for inputs, targets, classes, purpose, n_train in passes:
            N = inputs.shape[-1]
            if N == 0:
                continue
            plan = self.plan(N, purpose)
            out = self.forward(inputs, plan)
            plan.fresh = (id(inputs), self.version)
            self._per_example_loss(out, self._models_first(targets), plan)
            if self.output != "linear":
                self._correct(out, classes, plan.correct)
            totals += self._models_first(self._times(plan.per_example)(plan.by_set(n_train)))
            sizes[0] += n_train
            sizes[1] += N - n_train
        n_train, n_test = max(sizes[0], 1), max(sizes[1], 1)
        half = 2 if self.output in ("tanh", "linear") else 1  # the half squared error's half (exact)
        means = (totals / np.array([[half * n_train, half * n_test], [n_train, n_test]], dtype=float)
                 ).reshape(self.stack, 4)
        if self.output == "linear":
            means[:, 2:] = np.nan
        for part, n in enumerate(sizes):
            if not n:  # an empty set has no mean
                means[:, [part, 2 + part]] = np.nan
        return means

    def _per_example_loss(self, out, targets, plan):
        """Each example's loss into plan.loss (S, N); for the half squared error without its half."""
        if self.output in ("tanh", "linear"):
            err = plan.scratch
            np.subtract(out, targets, err)
            np.multiply(err, err, err)
            if len(err) > 1:  # several output units: sum over them (axis 0)
                np.add.reduce(err, 0, None, plan.loss)
            return
        z = plan.z[self.num_layers]
        if self.output == "logistic":  # softplus(z) - t01 z: binary cross-entropy, stable for any z
            plan.loss[...] = (np.logaddexp(0.0, z) - (targets + 1.0) * 0.5 * z)[0]
            return
        zmax = z.max(axis=0, keepdims=True)  # softmax cross-entropy: logsumexp(z) - z[label]
        plan.loss[...] = np.log(np.exp(z - zmax).sum(axis=0)) + zmax[0] - (z * targets).sum(axis=0)

    def _correct(self, out, classes, correct):
        """correct (S, N) = 1 where the predicted class is the example's class, else 0."""
        if self.output == "softmax":
            np.equal(out.argmax(axis=0), classes, correct)
            return
        np.greater_equal(out[0], _ZERO, correct)  # the original paints out >= 0 as the +1 class
        np.equal(correct, classes, correct)

    def layer_outputs(self, inputs):
        """Every layer's output of model 0 for `inputs` [x; 1] (n_0 + 1, rows), from one pass.

        Returns [a_1 (n_1, rows), ..., out (n_L, rows)], views into one new array: one copy of the
        pass's buffer rather than one per layer, as at grid sizes the page faults of fresh memory
        cost more than the pass itself. The pass has buffers of its own, so it never disturbs
        training's (whose loss pass may be the next epoch's forward pass).
        """
        plan = self.plan(inputs.shape[-1], "outputs")
        x = inputs if self.stack == 1 else np.broadcast_to(inputs, (self.stack,) + inputs.shape)
        self.forward(x, plan)
        h = (plan.h if self.stack == 1 else plan.h[:, 0]).copy()
        outputs = [h[rows] for rows in plan.rows[1:]]
        if self.output == "linear":  # its output lives in z, not in h
            outputs[-1] = (plan.out if self.stack == 1 else plan.out[:, 0]).copy()
        return outputs


class Hyper:
    """The learning hyperparameters of S stacked models, in the forms `Network.update` uses.

    lr, l1_rate, l2_rate: scalars or one value per model. Regularisation applies to weights only.
    """

    def __init__(self, net: Network, lr, l1_rate=0.0, l2_rate=0.0, optimizer="sgd", momentum=0.0):
        def per_model(value):
            return np.asarray(value, dtype=float).reshape(-1, 1) if np.ndim(value) else float(value)

        lr, l1, l2 = per_model(lr), per_model(l1_rate), per_model(l2_rate)
        self.neg_lr = -lr
        self.any_l1 = bool(np.any(l1 != 0))
        self.any_l2 = bool(np.any(l2 != 0))
        # (lr * rate) first, as nn.ts computes it, then masked to the weights.
        self.l1_step = np.broadcast_to((lr * l1) * net.is_weight, net.params.shape) if self.any_l1 else None
        self.l2_step = np.broadcast_to((lr * l2) * net.is_weight, net.params.shape) if self.any_l2 else None
        self.l2_decay = 1.0 - self.l2_step if self.any_l2 else None
        self.optimizer = optimizer
        self.momentum = float(momentum)
        self.plain_sgd = optimizer == "sgd" and not self.momentum  # the original's update
        self.any_dead = bool(net.dead.any())
        self.update_calls = {}  # Network.update_calls' bound calls, by (count, any_dead)
