"""haflow: CDKTF for a high-availability AI workflow platform on AWS, with pre-deploy HA proofs."""

from haflow.node import use_bundled_node

use_bundled_node()
