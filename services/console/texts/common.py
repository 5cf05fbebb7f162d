"""Texts of the frame every page shares: navigation, sign-in, errors, forms."""

from __future__ import annotations

from services.common.i18n import Catalogue

TEXTS: Catalogue = {
    "app.name": {"nl": "Kring", "en": "Kring"},
    "app.tagline": {"nl": "Lerende netwerken in het sociaal domein", "en": "Learning networks in the social domain"},
    "nav.main": {"nl": "Hoofdmenu", "en": "Main menu"},
    "nav.home": {"nl": "Mijn netwerken", "en": "My networks"},
    "nav.skip": {"nl": "Naar de inhoud", "en": "Skip to content"},
    "nav.sign_out": {"nl": "Uitloggen", "en": "Sign out"},
    "nav.language": {"nl": "Taal", "en": "Language"},
    "nav.signed_in_as": {"nl": "Ingelogd als {name}", "en": "Signed in as {name}"},
    "lang.nl": {"nl": "Nederlands", "en": "Nederlands"},
    "lang.en": {"nl": "English", "en": "English"},
    "lang.choose": {"nl": "Kies", "en": "Choose"},
    # --- sign-in
    "signin.title": {"nl": "Inloggen", "en": "Sign in"},
    "signin.intro": {"nl": "Log in met het account van uw organisatie.",
                     "en": "Sign in with your organisation's account."},
    "signin.with_provider": {"nl": "Inloggen met uw organisatie-account",
                             "en": "Sign in with your organisation account"},
    "signin.dev.title": {"nl": "Ontwikkel-inlog", "en": "Development sign-in"},
    "signin.dev.warning": {
        "nl": "Alleen voor ontwikkeling en demonstratie: iedereen kan hier inloggen als ieder lid. Nooit in productie.",
        "en": "For development and demonstration only: anyone can sign in here as any member. Never in production.",
    },
    "signin.dev.email": {"nl": "E-mailadres van een lid", "en": "E-mail address of a member"},
    "signin.dev.demo_people": {"nl": "Of kies een demo-persoon", "en": "Or choose a demo person"},
    "signin.dev.submit": {"nl": "Inloggen", "en": "Sign in"},
    "signin.unknown_email": {
        "nl": "Het e-mailadres {email} is niet bekend in Kring. Vraag de coördinator van uw netwerk u toe te voegen.",
        "en": "The e-mail address {email} is not known in Kring. Ask your network's coordinator to add you.",
    },
    "signin.none_configured": {
        "nl": "Er is geen manier van inloggen ingesteld. De beheerder stelt een OpenID Connect-provider in.",
        "en": "No way to sign in is configured. The operator configures an OpenID Connect provider.",
    },
    "signin.expired": {"nl": "Uw sessie is verlopen. Log opnieuw in.",
                       "en": "Your session has expired. Please sign in again."},
    "signin.failed.provider_unreachable": {
        "nl": "De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.",
        "en": "Your organisation's sign-in service cannot be reached now. Please try again in a few minutes.",
    },
    "signin.failed.denied": {
        "nl": "De inlogdienst heeft het inloggen niet toegestaan. U bent niet ingelogd.",
        "en": "The sign-in service did not allow the sign-in. You are not signed in.",
    },
    "signin.failed.state": {
        "nl": "Dit inloggen is niet in deze browser begonnen, of al gebruikt. Begin opnieuw met inloggen.",
        "en": "This sign-in was not started in this browser, or was already used. Please start signing in again.",
    },
    "signin.failed.expired": {
        "nl": "Het inloggen duurde te lang. Begin opnieuw met inloggen.",
        "en": "The sign-in took too long. Please start signing in again.",
    },
    "signin.failed.id_token": {
        "nl": "Het bewijs van de inlogdienst kon niet worden gecontroleerd. U bent niet ingelogd; meld dit aan de "
              "beheerder.",
        "en": "The sign-in service's proof could not be verified. You are not signed in; please tell the operator.",
    },
    "signin.failed.email_unverified": {
        "nl": "De inlogdienst bevestigt uw e-mailadres niet. Kring laat alleen een bevestigd e-mailadres binnen.",
        "en": "The sign-in service does not confirm your e-mail address. Kring only admits a confirmed address.",
    },
    "signout.done": {"nl": "U bent uitgelogd.", "en": "You have signed out."},
    # --- home
    "home.title": {"nl": "Mijn netwerken", "en": "My networks"},
    "home.greeting": {"nl": "Welkom, {name}", "en": "Welcome, {name}"},
    "home.no_networks": {"nl": "U bent nog geen lid van een netwerk.",
                         "en": "You are not a member of any network yet."},
    "home.mine.registered": {"nl": "u bent aangemeld", "en": "you are registered"},
    "home.mine.waitlisted": {"nl": "u staat op de wachtlijst", "en": "you are on the waitlist"},
    "home.operator": {"nl": "U bent beheerder van deze Kring-omgeving.", "en": "You operate this Kring instance."},
    "role.coordinator": {"nl": "coördinator", "en": "coordinator"},
    "role.facilitator": {"nl": "begeleider", "en": "facilitator"},
    "role.participant": {"nl": "deelnemer", "en": "participant"},
    "role.operator": {"nl": "beheerder", "en": "operator"},
    "network.level.local": {"nl": "lokaal", "en": "local"},
    "network.level.regional": {"nl": "regionaal", "en": "regional"},
    "network.level.national": {"nl": "landelijk", "en": "national"},
    "network.level.neighbourhood": {"nl": "wijk of buurt", "en": "neighbourhood"},
    "network.tabs": {"nl": "Onderdelen van het netwerk", "en": "Parts of the network"},
    "network.tab.overview": {"nl": "Overzicht", "en": "Overview"},
    "network.tab.sessions": {"nl": "Bijeenkomsten", "en": "Sessions"},
    "network.tab.outputs": {"nl": "Opbrengsten", "en": "Outputs"},
    "network.tab.members": {"nl": "Leden", "en": "Members"},
    "network.tab.links": {"nl": "Verbindingen", "en": "Links"},
    "network.tab.feed": {"nl": "Gedeeld met ons", "en": "Shared with us"},
    "network.tab.health": {"nl": "Gezondheid (negen stappen)", "en": "Health (nine steps)"},
    "network.tab.learning": {"nl": "Leerverslag", "en": "Learning report"},
    # --- errors and forms
    "error.title": {"nl": "Er ging iets mis", "en": "Something went wrong"},
    "error.forbidden.title": {"nl": "Geen toegang", "en": "Not allowed"},
    "error.forbidden": {
        "nl": "Dit mag u niet met uw rol in dit netwerk. Vraag het de coördinator van het netwerk als u denkt dat dit "
              "niet klopt.",
        "en": "Your role in this network does not allow this. Ask the network's coordinator if you think this is "
              "wrong.",
    },
    "error.not_found.title": {"nl": "Niet gevonden", "en": "Not found"},
    "error.not_found": {"nl": "Deze pagina of dit onderdeel bestaat niet (meer).",
                        "en": "This page or item does not exist (any more)."},
    "error.unavailable.title": {"nl": "Even niet bereikbaar", "en": "Temporarily unavailable"},
    "error.unavailable": {"nl": "Kring is op dit moment niet bereikbaar. Probeer het over een minuut opnieuw.",
                          "en": "Kring cannot be reached right now. Please try again in a minute."},
    "error.csrf": {
        "nl": "Dit formulier is verlopen of kwam niet van deze pagina. Open de pagina opnieuw en probeer het nog eens.",
        "en": "This form has expired or did not come from this page. Open the page again and try once more.",
    },
    "error.api_said": {"nl": "Kring meldt: {message}", "en": "Kring says: {message}"},
    "error.back_home": {"nl": "Terug naar mijn netwerken", "en": "Back to my networks"},
    "form.errors_title": {"nl": "Controleer het formulier", "en": "Please check the form"},
    "form.required": {"nl": "Vul dit veld in.", "en": "Please fill in this field."},
    "form.save": {"nl": "Opslaan", "en": "Save"},
    "form.cancel": {"nl": "Annuleren", "en": "Cancel"},
    "form.optional": {"nl": "(optioneel)", "en": "(optional)"},
    "form.nothing_saved": {"nl": "Er is niets opgeslagen.", "en": "Nothing has been saved."},
    "saved": {"nl": "Opgeslagen.", "en": "Saved."},
    "more": {"nl": "Meer", "en": "More"},
    "none": {"nl": "geen", "en": "none"},
    "yes": {"nl": "ja", "en": "yes"},
    "no": {"nl": "nee", "en": "no"},
}
