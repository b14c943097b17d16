"""The maths of one network: activations, outputs and their losses, initializers,
penalties, dropout masks, and ``forward``/``backward``/``cost`` over a
:class:`~reglab.nn.network.Network` that holds the parameters.

Pure functions ``f(arrays, hyper-parameters) -> arrays``, each derivative beside
its forward. The bottom layer: imports nothing of reglab but ``reglab._validation``.
"""
