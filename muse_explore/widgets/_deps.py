"""The JupyterLab widget stack, imported with a clear message when it is missing."""

from __future__ import annotations

import warnings


def require():
    """``(ipywidgets, nglview, plotly.graph_objects)``; raises ImportError naming the extra."""
    try:
        import ipywidgets
        import plotly.graph_objects as go

        with warnings.catch_warnings():  # nglview 3.1 imports the deprecated pkg_resources
            warnings.simplefilter("ignore")
            import nglview
    except ImportError as err:
        raise ImportError(
            f"the explorer widgets need the JupyterLab stack ({err.name} is missing): "
            'pip install -e ".[lab]"'
        ) from None
    return ipywidgets, nglview, go
