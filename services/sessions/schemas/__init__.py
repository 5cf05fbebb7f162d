"""The sessions service on the wire: commands and queries (:mod:`.commands`) and answers (:mod:`.views`)."""
