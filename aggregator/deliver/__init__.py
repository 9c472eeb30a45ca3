"""Delivery: the digest by e-mail (newsletters) and alerts to the team's chat."""
