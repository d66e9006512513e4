"""Post-deploy drills: verify the live HA posture against the synthesized plan, run failovers, keep a log.

Everything here talks to AWS (or a local endpoint such as moto_server or LocalStack) through boto3;
nothing imports the provider bindings unless a plan has to be synthesized first.
"""

# How long a failover drill waits for a new leader before it reports a timeout (exit 1).
DEFAULT_TIMEOUT_SECONDS = 600
