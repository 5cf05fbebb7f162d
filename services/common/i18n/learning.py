"""The learning report's summary lines, in Dutch and English: what a network's sessions produced in a period.

Each count is a phrase of its own (``count.*``), so every number gets its own singular or plural."""

from __future__ import annotations

from services.common.i18n import Catalogue

LEARNING: Catalogue = {
    "count.session": {"nl": ("{n} sessie gehouden", "{n} sessies gehouden"),
                      "en": ("{n} session held", "{n} sessions held")},
    "count.attendance": {"nl": ("{n} aanwezige", "{n} aanwezigen"), "en": ("{n} attendance", "{n} attendances")},
    "count.person": {"nl": ("{n} persoon", "{n} verschillende mensen"),
                     "en": ("{n} person", "{n} different people")},
    "count.output": {"nl": ("{n} opbrengst gepubliceerd", "{n} opbrengsten gepubliceerd"),
                     "en": ("{n} output published", "{n} outputs published")},
    "count.reflection": {"nl": ("{n} reflectie vastgelegd", "{n} reflecties vastgelegd"),
                         "en": ("{n} reflection recorded", "{n} reflections recorded")},
    "count.opened": {"nl": ("{n} leervraag ingebracht", "{n} leervragen ingebracht"),
                     "en": ("{n} learning question opened", "{n} learning questions opened")},
    "count.closed": {"nl": ("{n} leercyclus rond", "{n} leercycli rond"),
                     "en": ("{n} loop closed", "{n} loops closed")},
    "count.experiment": {"nl": ("{n} experiment in de praktijk", "{n} experimenten in de praktijk"),
                         "en": ("{n} experiment in practice", "{n} experiments in practice")},
    "sessions": {"nl": "{sessions}, {attendance} ({average} per sessie), {people}",
                 "en": "{sessions}, {attendance} ({average} per session), {people}"},
    "outputs": {"nl": "{outputs}, {reflections}", "en": "{outputs}, {reflections}"},
    "loops": {"nl": "{opened}, {closed} ({with_output} met een opbrengst)",
              "en": "{opened}, {closed} ({with_output} with an output)"},
    "experiments": {"nl": "{experiments}: {yes} met mandaat, {asked} aangevraagd, {no} zonder; {followed} nabesproken",
                    "en": "{experiments}: {yes} with a mandate, {asked} asked for, {no} without; "
                          "{followed} followed up"},
}
