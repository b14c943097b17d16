"""Gradient descent over data, and what hooks into it: the reference training loop
(``loop``), early stopping and data augmentation.

May import ``reglab.nn``, ``reglab.data`` and ``reglab._validation``; nothing above.
(The folder is ``training``, not ``train``: ``reglab.train`` is the public training
function, which a subpackage of the same name would shadow.)
"""
