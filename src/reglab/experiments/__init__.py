"""Many runs and what they mean: the run log and worker pool (``runner``), the
settings comparison (``compare``), grid sweeps (``sweep``), the course's
experiments (``course``), learning curves, the bias/variance diagnosis and the
statistics over seeds (``stats``).

May import ``reglab.training``, ``reglab.nn``, ``reglab.data``, ``reglab.io`` and
``reglab._validation``; never ``reglab.report`` or ``reglab.cli``.
"""
