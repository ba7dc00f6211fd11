"""The receivers' addresses, at the site's root as the devices expect them: /ispindel (also
/iSpindel, /ispindle, /iSpindle) and /tiltbridge (T and B in either case), slash optional."""

from django.urls import re_path

from fermentrack.web.gravity import receivers

urlpatterns = [
    re_path(r"^i[sS]pind(?:el|le)/?$", receivers.ispindel, name="ispindel_receiver"),
    re_path(r"^[tT]ilt[bB]ridge/?$", receivers.tiltbridge, name="tiltbridge_receiver"),
]
