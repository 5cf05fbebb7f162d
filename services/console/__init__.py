"""The Kring console: the web application for the people of the learning networks (a client of the admin API).

Server-rendered pages (Jinja2), enhanced by htmx shipped in ``static/``; every action authorized by the admin API
as the signed-in person. See docs/architecture.md, "The console", and decision 0015.
"""
