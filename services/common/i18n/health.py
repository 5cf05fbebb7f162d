"""The network health report's texts: step titles, evidence and what is missing, in Dutch and English."""

from __future__ import annotations

from services.common.i18n import Catalogue

HEALTH: Catalogue = {
    # --- words used in several steps
    "and": {"nl": "en", "en": "and"},
    "count.member": {"nl": ("{n} lid", "{n} leden"), "en": ("{n} member", "{n} members")},
    "count.perspective": {"nl": ("{n} perspectief", "{n} perspectieven"),
                          "en": ("{n} perspective", "{n} perspectives")},
    "count.session": {"nl": ("{n} sessie", "{n} sessies"), "en": ("{n} session", "{n} sessions")},
    "count.month": {"nl": ("{n} maand", "{n} maanden"), "en": ("{n} month", "{n} months")},
    "count.facilitator": {"nl": ("{n} begeleider", "{n} begeleiders"), "en": ("{n} facilitator", "{n} facilitators")},
    "count.experiment": {"nl": ("{n} experiment", "{n} experimenten"), "en": ("{n} experiment", "{n} experiments")},
    "count.reflection": {"nl": ("{n} reflectie", "{n} reflecties"), "en": ("{n} reflection", "{n} reflections")},
    "count.learning_question": {"nl": ("{n} leervraag", "{n} leervragen"),
                                "en": ("{n} learning question", "{n} learning questions")},
    "count.output": {"nl": ("{n} opbrengst", "{n} opbrengsten"), "en": ("{n} output", "{n} outputs")},
    "unknown_perspective": {"nl": "onbekend perspectief", "en": "unknown perspective"},
    # --- 1
    "title.frame_theme": {"nl": "Kader het thema scherp af", "en": "Frame the theme sharply"},
    "evidence.theme": {"nl": 'thema: "{theme}"', "en": 'theme: "{theme}"'},
    # --- 2
    "title.connect_urgency": {"nl": "Sluit aan bij de urgentie van de deelnemers",
                              "en": "Connect to the participants' urgency"},
    "evidence.urgency": {"nl": 'urgentie: "{urgency}"', "en": 'urgency: "{urgency}"'},
    "evidence.no_urgency": {"nl": "geen urgentie vastgelegd", "en": "no urgency recorded"},
    "evidence.participant_urgency": {
        "nl": ("deelnemers zeggen in {stated} van {n} leervraag waarom die voor hen urgent is",
               "deelnemers zeggen in {stated} van {n} leervragen waarom die voor hen urgent zijn"),
        "en": ("participants say why it is urgent to them in {stated} of {n} learning question",
               "participants say why it is urgent to them in {stated} of {n} learning questions")},
    "missing.urgency": {"nl": "leg vast waarom het thema urgent is voor de deelnemers",
                        "en": "record why the theme is urgent for the participants"},
    "missing.participant_urgency": {
        "nl": "deelnemers die in hun leervragen zeggen waarom het thema voor hen urgent is",
        "en": "participants saying in their learning questions why the theme is urgent to them"},
    "little.urgency_from_staff": {
        "nl": "beoordeeld naar de urgentie die de coördinatoren vastlegden: nog geen deelnemer bracht een leervraag in",
        "en": "judged from the urgency the coordinators recorded: no participant has brought a learning question yet"},
    "little.few_questions": {
        "nl": ("beoordeeld naar {n} leervraag van deelnemers", "beoordeeld naar {n} leervragen van deelnemers"),
        "en": ("judged from {n} learning question of participants",
               "judged from {n} learning questions of participants")},
    # --- 3
    "title.diverse_perspectives": {"nl": "Werf diverse perspectieven", "en": "Recruit diverse perspectives"},
    "evidence.perspectives": {"nl": "{perspectives} onder {members}", "en": "{perspectives} among {members}"},
    "missing.perspectives": {"nl": "minstens {minimum} perspectieven; denk aan {absent}",
                             "en": "at least {minimum} perspectives; consider {absent}"},
    # --- 4
    "title.mandate_to_experiment": {"nl": "Zorg voor doorwerking in de praktijk: mandaat om te experimenteren",
                                    "en": "Mandate to experiment in practice"},
    "evidence.mandate": {
        "nl": "in de afgelopen 12 maanden: {experiments} in de praktijk, {mandated} met mandaat ({asked} aangevraagd), "
              "{followed} daarvan nabesproken in een latere sessie",
        "en": "in the last 12 months: {experiments} in practice, {mandated} with a mandate ({asked} asked for), "
              "{followed} of those followed up at a later session"},
    "missing.experiments": {
        "nl": "deelnemers die uit een sessie een experiment in de praktijk meenemen, met hun mandaat vastgelegd",
        "en": "participants leaving sessions with an experiment in practice, their mandate recorded"},
    "missing.mandates": {"nl": "mandaat voor minstens de helft van de experimenten",
                         "en": "mandates for at least half of the experiments"},
    "missing.follow_up": {"nl": "een experiment met mandaat dat in een latere sessie wordt nabesproken",
                          "en": "a follow-up at a later session of an experiment with a mandate"},
    "little.few_experiments": {
        "nl": ("slechts {n} experiment vastgelegd in deze periode",
               "slechts {n} experimenten vastgelegd in deze periode"),
        "en": ("only {n} experiment recorded in the period", "only {n} experiments recorded in the period")},
    # --- 5
    "title.two_facilitators": {"nl": "Twee begeleiders uit verschillende perspectieven",
                               "en": "Two facilitators from different perspectives"},
    "missing.two_facilitators": {"nl": "twee begeleiders", "en": "two facilitators"},
    "missing.facilitator_perspectives": {"nl": "begeleiders uit verschillende perspectieven",
                                         "en": "facilitators from different perspectives"},
    # --- 6
    "title.group_responsibility": {"nl": "Leg verantwoordelijkheid bij de groep",
                                   "en": "Responsibility with the group"},
    "evidence.no_sessions": {"nl": "nog geen sessies gehouden", "en": "no sessions held yet"},
    "missing.hold_sessions": {"nl": "houd sessies", "en": "hold sessions"},
    "evidence.group": {
        "nl": ("deelnemers brachten een onderwerp, bijdrage of leervraag in bij {with_participant} van {n} "
               "gehouden sessie",
               "deelnemers brachten een onderwerp, bijdrage of leervraag in bij {with_participant} van {n} "
               "gehouden sessies"),
        "en": ("participants brought a topic, contribution or learning question to {with_participant} of {n} "
               "session held",
               "participants brought a topic, contribution or learning question to {with_participant} of {n} "
               "sessions held")},
    "missing.group": {
        "nl": "deelnemers, niet alleen begeleiders, die in minstens een derde van de sessies iets inbrengen",
        "en": "participants, not only facilitators, bringing something to at least a third of the sessions"},
    "little.few_sessions": {
        "nl": ("beoordeeld naar {n} gehouden sessie", "beoordeeld naar {n} gehouden sessies"),
        "en": ("judged from {n} session held", "judged from {n} sessions held")},
    # --- 7
    "title.act_and_reflect": {"nl": "Handel en reflecteer", "en": "Act and reflect"},
    "evidence.reflect": {"nl": "{reflections} en {questions} vastgelegd",
                         "en": "{reflections} and {questions} recorded"},
    "missing.reflect": {"nl": "leden die na sessies hun reflecties vastleggen",
                        "en": "members recording reflections after sessions"},
    # --- 8
    "title.sustained_rhythm": {"nl": "Minstens 18 maanden lang elke zes weken een sessie",
                               "en": "At least 18 months of sessions every six weeks"},
    "evidence.held": {"nl": "{sessions} gehouden", "en": "{sessions} held"},
    "evidence.rhythm": {"nl": "{sessions} in {months}, mediane tussenpoos {gap} weken",
                        "en": "{sessions} in {months}, median gap {gap} weeks"},
    "missing.rhythm": {"nl": "elke zes weken een sessie, {months} maanden lang",
                       "en": "sessions every six weeks for {months} months"},
    "missing.more_months": {"nl": ("nog {n} maand sessies", "nog {n} maanden sessies"),
                            "en": ("{n} more month of sessions", "{n} more months of sessions")},
    "missing.every_six_weeks": {"nl": "minstens elke zes weken een sessie",
                                "en": "sessions at least every six weeks"},
    # --- 9
    "title.communicate_results": {"nl": "Benoem en communiceer resultaten", "en": "Name and communicate results"},
    "evidence.results": {"nl": "{shared} gedeeld buiten het netwerk, {total} gepubliceerd in totaal",
                         "en": "{shared} shared beyond the network, {total} published in all"},
    "missing.results": {"nl": "opbrengsten gedeeld met gekoppelde netwerken, de federatie of iedereen",
                        "en": "outputs shared with linked networks, the federation or the public"},
    # --- perspectives, as the report names them
    "perspective.municipality_policy": {"nl": "gemeente en beleid", "en": "municipality policy"},
    "perspective.practitioner": {"nl": "praktijk", "en": "practitioner"},
    "perspective.client": {"nl": "cliënt", "en": "client"},
    "perspective.resident": {"nl": "bewoner", "en": "resident"},
    "perspective.volunteer": {"nl": "vrijwilliger", "en": "volunteer"},
    "perspective.lived_experience": {"nl": "ervaringsdeskundige", "en": "lived experience"},
    "perspective.education": {"nl": "onderwijs", "en": "education"},
    "perspective.research": {"nl": "onderzoek", "en": "research"},
}
