"""After-the-fact tools on stored runs: evaluate, visualize, aggregate, encode."""
