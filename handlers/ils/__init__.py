"""The libraries' own systems as readers meet them: relayed holds, linked library cards."""
