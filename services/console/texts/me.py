"""Texts of the person's own pages: the start page's upcoming sessions, "Mijn gegevens", reflections, "Wie weet wat"."""

from __future__ import annotations

from services.common.i18n import Catalogue

TEXTS: Catalogue = {
    # --- start page
    "me.upcoming.title": {"nl": "Mijn komende bijeenkomsten", "en": "My upcoming sessions"},
    "me.upcoming.none": {"nl": "Er staan geen bijeenkomsten gepland in uw netwerken.",
                         "en": "No sessions are planned in your networks."},
    # --- my record
    "me.nav": {"nl": "Mijn gegevens", "en": "My details"},
    "me.title": {"nl": "Mijn gegevens", "en": "My details"},
    "me.intro": {"nl": "Dit weet Kring over u. U bepaalt zelf wie u kan vinden en of uw naam buiten uw netwerken "
                       "genoemd mag worden.",
                 "en": "This is what Kring knows about you. You decide who can find you and whether your name may "
                       "be shown outside your networks."},
    "me.record.title": {"nl": "Wat Kring van u weet", "en": "What Kring holds about you"},
    "me.record.name": {"nl": "Naam", "en": "Name"},
    "me.record.email": {"nl": "E-mailadres", "en": "E-mail address"},
    "me.record.organisation": {"nl": "Organisatie", "en": "Organisation"},
    "me.record.perspectives": {"nl": "Vanuit welke rol u meedoet", "en": "The perspectives you bring"},
    "me.record.expertise": {"nl": "Waar u veel van weet", "en": "Your expertise"},
    "me.record.networks": {"nl": "Netwerken", "en": "Networks"},
    "me.record.change": {"nl": "Klopt er iets niet? Vraag de coördinator van uw netwerk om het aan te passen.",
                         "en": "Something wrong? Ask your network's coordinator to change it."},
    "me.perspective.municipality_policy": {"nl": "gemeente of beleid", "en": "municipality or policy"},
    "me.perspective.practitioner": {"nl": "professional in de praktijk", "en": "practitioner"},
    "me.perspective.client": {"nl": "cliënt", "en": "client"},
    "me.perspective.resident": {"nl": "bewoner", "en": "resident"},
    "me.perspective.volunteer": {"nl": "vrijwilliger", "en": "volunteer"},
    "me.perspective.lived_experience": {"nl": "ervaringsdeskundige", "en": "lived experience"},
    "me.perspective.education": {"nl": "onderwijs (student of docent)", "en": "education (student or teacher)"},
    "me.perspective.research": {"nl": "onderzoek", "en": "research"},
    "me.consent.title": {"nl": "Mijn toestemming", "en": "My consent"},
    "me.consent.findable_by_expertise": {"nl": "Anderen mogen mij vinden op wat ik weet",
                                         "en": "Others may find me by my expertise"},
    "me.consent.findable_by_expertise.hint": {
        "nl": "Mensen in uw netwerken zien dan uw naam, organisatie en onderwerpen bij \"Wie weet wat\", en kunnen "
              "u via Kring een vraag stellen. Uw e-mailadres zien ze nooit.",
        "en": "People in your networks then see your name, organisation and topics in \"Who knows what\" and can "
              "ask you a question through Kring. They never see your e-mail address.",
    },
    "me.consent.named_in_shared_outputs": {"nl": "Mijn naam mag bij gedeelde opbrengsten staan",
                                           "en": "My name may appear on shared outputs"},
    "me.consent.named_in_shared_outputs.hint": {
        "nl": "Als een opbrengst waaraan u meewerkte met andere netwerken wordt gedeeld, staat uw naam erbij. Zonder "
              "toestemming staat er alleen uw rol, bijvoorbeeld \"een ervaringsdeskundige\".",
        "en": "When an output you worked on is shared with other networks, your name is on it. Without consent "
              "only your perspective is shown, for example \"a person with lived experience\".",
    },
    "me.consent.save": {"nl": "Toestemming opslaan", "en": "Save consent"},
    "me.consent.saved": {"nl": "Uw toestemming is opgeslagen.", "en": "Your consent has been saved."},
    "me.more.title": {"nl": "Meer over mij", "en": "More about me"},
    # --- export
    "me.export.title": {"nl": "Mijn gegevens downloaden", "en": "Download my data"},
    "me.export.intro": {"nl": "U krijgt één bestand (JSON) met alles wat Kring over u bewaart:",
                        "en": "You get one file (JSON) with everything Kring holds about you:"},
    "me.export.holds.members": {
        "nl": "uw gegevens, toestemming, netwerken, inlogsleutels, wat er met uw gegevens gebeurde en uw vragen aan "
              "deskundigen;",
        "en": "your details, consent, networks, sign-in tokens, what happened to your data and your questions to "
              "experts;",
    },
    "me.export.holds.sessions": {
        "nl": "de bijeenkomsten waarvoor u zich aanmeldde of waar u was, uw bijdragen, opbrengsten en reflecties.",
        "en": "the sessions you registered for or attended, your contributions, outputs and reflections.",
    },
    "me.export.careful": {"nl": "Dit bestand gaat alleen over u. Bewaar het op een veilige plek.",
                          "en": "This file is about you only. Keep it somewhere safe."},
    "me.export.download": {"nl": "Download mijn gegevens", "en": "Download my data"},
    # --- reflections
    "me.reflections.title": {"nl": "Mijn reflecties", "en": "My reflections"},
    "me.reflections.intro": {
        "nl": "Wat heeft een bijeenkomst met u gedaan? Schrijf het op. Wat u schrijft is van u en wordt niet gedeeld; "
              "het netwerk ziet alleen hoeveel reflecties er zijn van elke soort, zonder namen.",
        "en": "What did a session change for you? Write it down. What you write is yours and is not shared; the "
              "network only sees how many reflections there are of each kind, without names.",
    },
    "me.reflections.kinds_title": {"nl": "Vier soorten verandering", "en": "Four kinds of change"},
    "me.reflection.kind.self_image": {"nl": "Zelfbeeld", "en": "Self-image"},
    "me.reflection.kind.behaviour": {"nl": "Gedrag", "en": "Behaviour"},
    "me.reflection.kind.perspective": {"nl": "Kijk op anderen", "en": "Perspective"},
    "me.reflection.kind.task_conception": {"nl": "Kijk op mijn werk", "en": "Task conception"},
    "me.reflection.explain.self_image": {
        "nl": "U kijkt anders naar uzelf. Bijvoorbeeld: u merkt dat u meer weet of kunt dan u dacht.",
        "en": "You see yourself differently. For example: you notice you know or can do more than you thought.",
    },
    "me.reflection.explain.behaviour": {
        "nl": "U doet iets anders dan eerst. Bijvoorbeeld: u voert een gesprek op een andere manier, of u belt nu "
              "een andere organisatie.",
        "en": "You do something differently. For example: you hold a conversation another way, or you now call "
              "another organisation.",
    },
    "me.reflection.explain.perspective": {
        "nl": "U kijkt anders naar een situatie of naar andere mensen, omdat u hun kant hebt gehoord. Bijvoorbeeld: u "
              "begrijpt nu beter waarom een bewoner of een beleidsmaker iets doet.",
        "en": "You see a situation or other people differently, because you heard their side. For example: you "
              "understand better why a resident or a policy maker does something.",
    },
    "me.reflection.explain.task_conception": {
        "nl": "U ziet uw werk of uw taak anders. Bijvoorbeeld: u vindt nu dat iets wel, of juist niet, bij uw werk "
              "hoort.",
        "en": "You see your work or your task differently. For example: you now think something is, or is not, "
              "part of your job.",
    },
    "me.reflections.write": {"nl": "Een reflectie schrijven", "en": "Write a reflection"},
    "me.reflections.session": {"nl": "Over welke bijeenkomst?", "en": "About which session?"},
    "me.reflections.kind": {"nl": "Wat voor verandering is het?", "en": "What kind of change is it?"},
    "me.reflections.text": {"nl": "Uw reflectie", "en": "Your reflection"},
    "me.reflections.text_hint": {"nl": "In uw eigen woorden, hoogstens 5000 tekens.",
                                 "en": "In your own words, at most 5000 characters."},
    "me.reflections.save": {"nl": "Reflectie opslaan", "en": "Save reflection"},
    "me.reflections.saved": {"nl": "Uw reflectie is opgeslagen.", "en": "Your reflection has been saved."},
    "me.reflections.no_sessions": {
        "nl": "U kunt een reflectie schrijven over een bijeenkomst van uw netwerken die het afgelopen jaar is "
              "geweest. Die is er nog niet.",
        "en": "You can write a reflection on a session of your networks that took place in the past year. There is "
              "none yet.",
    },
    "me.reflections.mine": {"nl": "Wat u eerder schreef", "en": "What you wrote before"},
    "me.reflections.older": {"nl": "Oudere reflecties", "en": "Older reflections"},
    "me.reflections.none": {"nl": "U hebt nog geen reflecties geschreven.", "en": "You have not written any "
                                                                                 "reflections yet."},
    "me.reflections.col.when": {"nl": "Wanneer", "en": "When"},
    "me.reflections.col.session": {"nl": "Bijeenkomst", "en": "Session"},
    "me.reflections.col.kind": {"nl": "Soort", "en": "Kind"},
    "me.reflections.col.text": {"nl": "Reflectie", "en": "Reflection"},
    # --- who knows what
    "experts.nav": {"nl": "Wie weet wat", "en": "Who knows what"},
    "experts.title": {"nl": "Wie weet wat", "en": "Who knows what"},
    "experts.intro": {
        "nl": "Zoek mensen in uw eigen netwerken die ergens veel van weten. U ziet alleen wie daar toestemming voor "
              "gaf, en nooit een e-mailadres: u stelt uw vraag via Kring.",
        "en": "Find people in your own networks who know a lot about something. You only see those who agreed to "
              "be found, and never an e-mail address: you ask your question through Kring.",
    },
    "experts.tag": {"nl": "Onderwerp", "en": "Topic"},
    "experts.tag_hint": {"nl": "Eén onderwerp, bijvoorbeeld: schulden. Leeg laten: iedereen die te vinden is.",
                         "en": "One topic, for example: debt. Leave empty: everyone who can be found."},
    "experts.network": {"nl": "In netwerk", "en": "In network"},
    "experts.search": {"nl": "Zoeken", "en": "Search"},
    "experts.found": {"nl": "Gevonden", "en": "Found"},
    "experts.none": {"nl": "Niemand gevonden.", "en": "Nobody found."},
    "experts.next": {"nl": "Volgende pagina", "en": "Next page"},
    "experts.col.name": {"nl": "Naam", "en": "Name"},
    "experts.col.organisation": {"nl": "Organisatie", "en": "Organisation"},
    "experts.col.expertise": {"nl": "Weet veel van", "en": "Expertise"},
    "experts.col.perspectives": {"nl": "Rol", "en": "Perspectives"},
    "experts.col.networks": {"nl": "Netwerken", "en": "Networks"},
    "experts.col.ask": {"nl": "Vraag stellen", "en": "Ask"},
    "experts.ask_link": {"nl": "Vraag stellen aan {name}", "en": "Ask {name} a question"},
    "experts.anonymous": {"nl": "iemand die zijn naam niet deelde", "en": "someone who did not share their name"},
    "experts.status.open": {"nl": "wacht op antwoord", "en": "waiting for an answer"},
    "experts.status.answered": {"nl": "beantwoord", "en": "answered"},
    "experts.status.declined": {"nl": "afgewezen", "en": "declined"},
    "experts.questions.title": {"nl": "Mijn vragen", "en": "My questions"},
    "experts.questions.asked": {"nl": "Vragen die ik stelde", "en": "Questions I asked"},
    "experts.questions.received": {"nl": "Vragen aan mij", "en": "Questions to me"},
    "experts.questions.to": {"nl": "aan {name}", "en": "to {name}"},
    "experts.questions.from": {"nl": "van {name}", "en": "from {name}"},
    "experts.questions.none_asked": {"nl": "U hebt nog geen vragen gesteld.", "en": "You have not asked any "
                                                                                      "questions yet."},
    "experts.questions.none_received": {"nl": "Er zijn geen vragen aan u gesteld.",
                                        "en": "Nobody has asked you a question."},
    "experts.ask.title": {"nl": "Een vraag aan {name}", "en": "A question to {name}"},
    "experts.ask.intro": {
        "nl": "Uw vraag gaat via Kring. U ziet elkaars e-mailadres niet, tenzij de ander dat zelf deelt in het "
              "antwoord.",
        "en": "Your question goes through Kring. You do not see each other's e-mail address, unless the other "
              "shares it in the answer.",
    },
    "experts.ask.network": {"nl": "Via welk netwerk", "en": "Through which network"},
    "experts.ask.tag": {"nl": "Over welk onderwerp", "en": "About which topic"},
    "experts.ask.question": {"nl": "Uw vraag", "en": "Your question"},
    "experts.ask.question_hint": {"nl": "Hoogstens 4000 tekens. Schrijf geen gegevens van cliënten op.",
                                  "en": "At most 4000 characters. Do not write down details of clients."},
    "experts.ask.share_name": {"nl": "Mijn naam mag erbij", "en": "Show my name"},
    "experts.ask.share_name_hint": {"nl": "Zonder vinkje ziet de ander alleen vanuit welke rol u meedoet.",
                                    "en": "Without it, they only see the perspectives you bring."},
    "experts.ask.send": {"nl": "Vraag versturen", "en": "Send question"},
    "experts.ask.sent": {"nl": "Uw vraag is verstuurd.", "en": "Your question has been sent."},
    "experts.question.title": {"nl": "Vraag", "en": "Question"},
    "experts.question.expert": {"nl": "Gesteld aan", "en": "Asked to"},
    "experts.question.asker": {"nl": "Gesteld door", "en": "Asked by"},
    "experts.question.network": {"nl": "Netwerk", "en": "Network"},
    "experts.question.tag": {"nl": "Onderwerp", "en": "Topic"},
    "experts.question.asked_at": {"nl": "Gesteld op", "en": "Asked on"},
    "experts.question.status": {"nl": "Stand", "en": "Status"},
    "experts.question.question": {"nl": "De vraag", "en": "The question"},
    "experts.question.answer": {"nl": "Het antwoord", "en": "The answer"},
    "experts.question.decline_reason": {"nl": "Afgewezen: {reason}", "en": "Declined: {reason}"},
    "experts.question.contact": {"nl": "Zo bereikt u de deskundige", "en": "How to reach the expert"},
    "experts.question.answer_title": {"nl": "Antwoorden", "en": "Answer"},
    "experts.question.answer_field": {"nl": "Uw antwoord", "en": "Your answer"},
    "experts.question.share_email": {"nl": "Mijn e-mailadres mag de vraagsteller zien",
                                     "en": "The person asking may see my e-mail address"},
    "experts.question.contact_note": {"nl": "Andere manier om mij te bereiken", "en": "Another way to reach me"},
    "experts.question.contact_note_hint": {"nl": "Bijvoorbeeld een telefoonnummer. Alleen de vraagsteller ziet dit.",
                                           "en": "For example a phone number. Only the person asking sees it."},
    "experts.question.send_answer": {"nl": "Antwoord versturen", "en": "Send answer"},
    "experts.question.decline_title": {"nl": "Of: de vraag afwijzen", "en": "Or: decline the question"},
    "experts.question.reason": {"nl": "Waarom (de vraagsteller ziet dit)", "en": "Why (the person asking sees this)"},
    "experts.question.reason_hint": {"nl": "Bijvoorbeeld: hier weet ik te weinig van.",
                                     "en": "For example: I know too little about this."},
    "experts.question.decline": {"nl": "Vraag afwijzen", "en": "Decline question"},
    "experts.question.answered": {"nl": "Uw antwoord is verstuurd.", "en": "Your answer has been sent."},
    "experts.question.declined": {"nl": "U hebt de vraag afgewezen.", "en": "You declined the question."},
}
