"""Partner organisations (and other instances, registered as partners of kind instance): registration, keys,
blocking, and the outputs they publish for their networks."""
