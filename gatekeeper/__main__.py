# ``python -m gatekeeper`` starts and exits as the ``gatekeeper`` console script does.
from gatekeeper._startup import run

run()
