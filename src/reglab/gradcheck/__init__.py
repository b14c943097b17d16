"""Gradient checking by centred differences (``core``) and the course's own cases
(``course``: the 1-D and n-D checks with the planted bugs).

May import ``reglab.nn`` and ``reglab._validation``; nothing above.
"""
