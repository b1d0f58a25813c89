"""Entry point for AppTest.

AppTest re-detects the v1 ``pages/`` folder on every run and would then run the current page
without app.py; starting from this folder (which has no ``pages/``) keeps st.navigation in charge.
"""
import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent.parent / "app.py"), run_name="__main__")
