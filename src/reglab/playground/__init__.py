"""``reglab playground``: a local web page where a small network trains live.

At the edge beside ``cli``: may import every layer but ``cli`` (``nn``, ``data``,
``training``, ``gradcheck``, ``experiments``, ``io``). Starlette and uvicorn (the
``reglab[playground]`` extra) are imported only by :mod:`reglab.playground.server`,
when the page is served; :mod:`reglab.playground.trainer` needs only NumPy.
"""
