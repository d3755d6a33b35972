"""What the copilot says, in Finnish, English and Swedish.

Every refusal says why and what the copilot can do instead; every explanation says what
the plan will do, for which period (in Finnish date format) and to whom it is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

LANGUAGES = ("fi", "en", "sv")

# Names of the shipped templates as the copilot speaks of them (the template files hold
# Finnish and English names; Swedish lives here).
TEMPLATE_NAMES: Mapping[str, Mapping[str, str]] = {
    "receipt_processing": {
        "fi": "kuitin käsittely",
        "en": "receipt processing",
        "sv": "kvittohantering",
    },
    "invoice_processing": {
        "fi": "ostolaskun käsittely",
        "en": "purchase invoice processing",
        "sv": "hantering av inköpsfaktura",
    },
    "financial_report": {
        "fi": "talousraportti",
        "en": "financial report",
        "sv": "finansiell rapport",
    },
    "vat_report": {"fi": "ALV-laskelma", "en": "VAT report", "sv": "momsrapport"},
}

_CAPABILITIES = {
    "fi": (
        "Voin tehdä neljä asiaa: 1) käsitellä ja kirjata kuitin "
        '(esim. "Käsittele kuitti kuitit/kuitti.jpg"), 2) käsitellä ja kirjata '
        'ostolaskun ("Käsittele ostolasku laskut/lasku.pdf"), 3) laatia '
        'talousraportin ajanjaksolta ("Luo talousraportti viime kuulta") ja '
        '4) laskea arvonlisäveron eli ALV-laskelman ("Tee ALV-laskelma viime '
        'neljännekseltä"). Tuloksen voin myös lähettää sähköpostilla '
        '("... ja lähetä se osoitteeseen nimi@yritys.fi").'
    ),
    "en": (
        "I can do four things: 1) process and book a receipt "
        '(e.g. "Process the receipt receipts/lunch.png"), 2) process and book a '
        'purchase invoice ("Process the invoice invoices/invoice.pdf"), 3) make a '
        'financial report for a period ("Create a financial report for last '
        'month") and 4) calculate VAT ("Make a VAT report for Q3 2026"). I can '
        'also e-mail the result ("... and send it to name@company.fi").'
    ),
    "sv": (
        "Jag kan göra fyra saker: 1) behandla och bokföra ett kvitto "
        '(t.ex. "Behandla kvittot kvitton/kvitto.jpg"), 2) behandla och bokföra '
        'en inköpsfaktura ("Behandla fakturan fakturor/faktura.pdf"), 3) göra en '
        'finansiell rapport för en period ("Skapa en finansiell rapport för förra '
        'månaden") och 4) beräkna momsen ("Gör en momsrapport för tredje '
        'kvartalet"). Resultatet kan jag också skicka per e-post '
        '("... och skicka den till namn@foretag.fi").'
    ),
}

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "off_topic": {
        "fi": "En voi auttaa tässä: pyyntö ei koske kirjanpitoa, jota hoidan.",
        "en": "I cannot help with that: the request is not about the bookkeeping "
        "work I do.",
        "sv": "Det kan jag inte hjälpa till med: begäran gäller inte det "
        "bokföringsarbete jag gör.",
    },
    "not_understood": {
        "fi": "En ymmärtänyt, mitä haluat tehdä.",
        "en": "I did not understand what you want done.",
        "sv": "Jag förstod inte vad du vill göra.",
    },
    "rights": {
        "fi": "En voi tehdä tätä: pyyntö yrittää laajentaa oikeuksiasi tai "
        "ohittaa ohjeeni (API-avaimet, roolit ja ylläpito hoidetaan ylläpitäjän "
        "työkaluilla, eivät copilotin kautta).",
        "en": "I may not do that: the request tries to widen your rights or "
        "override my instructions (API keys, roles and administration are handled "
        "by an administrator's tools, not through the copilot).",
        "sv": "Det får jag inte göra: begäran försöker utöka dina rättigheter "
        "eller kringgå mina instruktioner (API-nycklar, roller och administration "
        "sköts med administratörens verktyg, inte via copiloten).",
    },
    "plan_changed": {
        "fi": "Suunnitelma muuttui esikatselun jälkeen, eikä mitään käynnistetty. "
        "Katso uusi suunnitelma ja suorita se, jos se on oikein.",
        "en": "The plan changed after the preview, and nothing was started. Look at "
        "the new plan and run it if it is right.",
        "sv": "Planen ändrades efter förhandsvisningen, och ingenting startades. Titta "
        "på den nya planen och kör den om den stämmer.",
    },
    "tenant": {
        "fi": "En voi tehdä tätä: käsittelen vain oman organisaatiosi tietoja, en "
        "muiden yritysten tai asiakkaiden.",
        "en": "I may not do that: I work only on your own organisation's data, "
        "never on other companies' or tenants' data.",
        "sv": "Det får jag inte göra: jag arbetar bara med din egen organisations "
        "uppgifter, aldrig med andra företags eller kunders.",
    },
    "delete": {
        "fi": "En voi poistaa tietoja: kirjanpidon tietoja ei poisteta copilotin "
        "kautta (virheellinen kirjaus korjataan uudella kirjauksella).",
        "en": "I cannot delete data: ledger data is never deleted through the "
        "copilot (a wrong entry is corrected with a new entry).",
        "sv": "Jag kan inte radera uppgifter: bokföringsdata raderas aldrig via "
        "copiloten (en felaktig post rättas med en ny post).",
    },
    "role": {
        "fi": "Roolisi ({role}) ei saa ajaa työnkulkuja: tähän tarvitaan vähintään "
        "rooli {needed}. Pyydä ylläpitäjältä oikeudet tai anna jonkun, jolla ne "
        "ovat, tehdä tämä.",
        "en": "Your role ({role}) may not run workflows: this needs at least role "
        "{needed}. Ask an administrator for the rights, or ask someone who has them.",
        "sv": "Din roll ({role}) får inte köra arbetsflöden: det kräver minst "
        "rollen {needed}. Be en administratör om rättigheterna, eller be någon som "
        "har dem.",
    },
    "unknown_template": {
        "fi": "En tunne työnkulkua '{template}'.",
        "en": "I do not know a workflow called '{template}'.",
        "sv": "Jag känner inte till ett arbetsflöde som heter '{template}'.",
    },
    "need_period": {
        "fi": 'Kerro, miltä ajalta {what} tehdään, esimerkiksi "viime kuulta", '
        '"syyskuulta 2026" tai "1.1.2026–31.3.2026".',
        "en": 'Say which period the {what} covers, e.g. "last month", '
        '"September 2026" or "1.1.2026–31.3.2026".',
        "sv": 'Säg vilken period {what} gäller, t.ex. "förra månaden", '
        '"september 2026" eller "1.1.2026–31.3.2026".',
    },
    "need_receipt_file": {
        "fi": 'Kerro, mikä kuittitiedosto käsitellään, esimerkiksi "Käsittele '
        'kuitti kuitit/kuitti.jpg".',
        "en": 'Say which receipt file to process, e.g. "Process the receipt '
        'receipts/receipt.jpg".',
        "sv": 'Säg vilken kvittofil som ska behandlas, t.ex. "Behandla kvittot '
        'kvitton/kvitto.jpg".',
    },
    "need_invoice_file": {
        "fi": 'Kerro, mikä laskutiedosto käsitellään, esimerkiksi "Käsittele '
        'ostolasku laskut/lasku.pdf".',
        "en": 'Say which invoice file to process, e.g. "Process the invoice '
        'invoices/invoice.pdf".',
        "sv": 'Säg vilken fakturafil som ska behandlas, t.ex. "Behandla fakturan '
        'fakturor/faktura.pdf".',
    },
    "need_value": {
        "fi": "Kerro arvo tiedolle '{name}' ({description}).",
        "en": "Give a value for '{name}' ({description}).",
        "sv": "Ange ett värde för '{name}' ({description}).",
    },
    "bad_format": {
        "fi": "Muotoa '{value}' ei tueta; valitse jokin näistä: {allowed}.",
        "en": "The format '{value}' is not supported; choose one of: {allowed}.",
        "sv": "Formatet '{value}' stöds inte; välj ett av: {allowed}.",
    },
    "bad_value": {
        "fi": "Arvo '{value}' ei kelpaa tiedolle '{name}'; valitse jokin näistä: "
        "{allowed}.",
        "en": "The value '{value}' does not fit '{name}'; choose one of: {allowed}.",
        "sv": "Värdet '{value}' passar inte för '{name}'; välj ett av: {allowed}.",
    },
    "bad_email": {
        "fi": "Sähköpostiosoite '{address}' ei kelpaa. Tarkista osoite, "
        "esimerkiksi nimi@yritys.fi.",
        "en": "The e-mail address '{address}' is not valid ({reason}). Check it, "
        "e.g. name@company.fi.",
        "sv": "E-postadressen '{address}' är inte giltig. Kontrollera den, "
        "t.ex. namn@foretag.fi.",
    },
    "no_notification": {
        "fi": "Tuloksen lähettäminen ei ole käytössä tässä palvelussa; tee pyyntö "
        "ilman lähettämistä.",
        "en": "Sending results is not available in this service; ask without sending.",
        "sv": "Att skicka resultat är inte tillgängligt i den här tjänsten; fråga "
        "utan att skicka.",
    },
    "start_after_end": {
        "fi": "Ajanjakson alku {start} on sen lopun {end} jälkeen; anna alkupäivä "
        "ensin, esimerkiksi 1.9.2026–15.9.2026.",
        "en": "The period starts on {start}, after its end {end}; give the start "
        "date first, e.g. 1.9.2026–15.9.2026.",
        "sv": "Perioden börjar {start}, efter sitt slut {end}; ange startdatumet "
        "först, t.ex. 1.9.2026–15.9.2026.",
    },
    "bad_period": {
        "fi": "Ajanjaksoa ei voitu päätellä ({detail}); kerro se esimerkiksi "
        '"viime kuulta" tai "1.1.2026–31.3.2026".',
        "en": "The period could not be worked out ({detail}); say it e.g. as "
        '"last month" or "1.1.2026–31.3.2026".',
        "sv": "Perioden kunde inte avgöras ({detail}); ange den t.ex. som "
        '"förra månaden" eller "1.1.2026–31.3.2026".',
    },
    "ignored_variable": {
        "fi": "Tietoa '{name}' ei käytetä tässä työnkulussa, joten se ohitettiin.",
        "en": "'{name}' is not used by this workflow and was left out.",
        "sv": "'{name}' används inte av detta arbetsflöde och utelämnades.",
    },
    "which_document": {
        "fi": "Kerro, onko tiedosto {file} kuitti vai ostolasku, esimerkiksi "
        '"Käsittele kuitti {file}" tai "Käsittele ostolasku {file}".',
        "en": "Say whether {file} is a receipt or a purchase invoice, e.g. "
        '"Process the receipt {file}" or "Process the invoice {file}".',
        "sv": "Säg om {file} är ett kvitto eller en inköpsfaktura, t.ex. "
        '"Behandla kvittot {file}" eller "Behandla fakturan {file}".',
    },
    "one_file": {
        "fi": "Käsittelen yhdellä kertaa yhden tiedoston: {file}. Tee muista "
        "tiedostoista ({others}) omat pyyntönsä.",
        "en": "I process one file at a time: {file}. Ask separately for the others "
        "({others}).",
        "sv": "Jag behandlar en fil åt gången: {file}. Be separat om de andra "
        "({others}).",
    },
    "ignored_file": {
        "fi": "Tiedostoa {file} ei tarvita tähän, joten se ohitettiin.",
        "en": "The file {file} is not needed for this and was left out.",
        "sv": "Filen {file} behövs inte för detta och utelämnades.",
    },
    "need_recipient": {
        "fi": 'Kerro sähköpostiosoite, johon tulos lähetetään, esimerkiksi "... ja '
        'lähetä se osoitteeseen nimi@yritys.fi".',
        "en": 'Give the e-mail address to send the result to, e.g. "... and send '
        'it to name@company.fi".',
        "sv": 'Ange e-postadressen som resultatet ska skickas till, t.ex. "... och '
        'skicka den till namn@foretag.fi".',
    },
    "bad_date": {
        "fi": "Päivämäärää {date} ei ole olemassa; tarkista päivä ja kuukausi "
        "(muoto p.k.vvvv, esimerkiksi 15.9.2026).",
        "en": "The date {date} does not exist; check the day and month (format "
        "d.m.yyyy or yyyy-mm-dd, e.g. 15.9.2026).",
        "sv": "Datumet {date} finns inte; kontrollera dag och månad (format "
        "d.m.åååå eller åååå-mm-dd, t.ex. 15.9.2026).",
    },
    "not_sent": {
        "fi": "Osoitteisiin {recipients} ei lähetetä mitään, koska lähettämistä ei "
        'pyydetty; sano esimerkiksi "... ja lähetä se osoitteeseen {recipients}".',
        "en": "Nothing is sent to {recipients}: sending was not asked for; say e.g. "
        '"... and send it to {recipients}".',
        "sv": "Inget skickas till {recipients} eftersom det inte begärdes; säg t.ex. "
        '"... och skicka den till {recipients}".',
    },
    "too_long": {
        "fi": "Komento on liian pitkä (yli {limit} merkkiä); kirjoita lyhyempi "
        'pyyntö, esimerkiksi "Luo talousraportti viime kuulta".',
        "en": "The command is too long (over {limit} characters); write a shorter "
        'request, e.g. "Create a financial report for last month".',
        "sv": "Kommandot är för långt (över {limit} tecken); skriv en kortare "
        'begäran, t.ex. "Skapa en finansiell rapport för förra månaden".',
    },
    # Explanations.
    "will_do": {
        "fi": "Teen: {name}.",
        "en": "I will do: {name}.",
        "sv": "Jag gör: {name}.",
    },
    "period": {
        "fi": "Ajanjakso: {period}.",
        "en": "Period: {period}.",
        "sv": "Period: {period}.",
    },
    "file": {
        "fi": "Tiedosto: {file}.",
        "en": "File: {file}.",
        "sv": "Fil: {file}.",
    },
    "format": {
        "fi": "Muoto: {format}.",
        "en": "Format: {format}.",
        "sv": "Format: {format}.",
    },
    "send": {
        "fi": "Tulos lähetetään osoitteisiin: {recipients}.",
        "en": "The result will be sent to: {recipients}.",
        "sv": "Resultatet skickas till: {recipients}.",
    },
    "default_subject": {
        "fi": "Työnkulun tulos: {name}",
        "en": "Workflow result: {name}",
        "sv": "Arbetsflödets resultat: {name}",
    },
    "default_body": {
        "fi": "Työnkulku '{name}' on valmis.",
        "en": "The workflow '{name}' has finished.",
        "sv": "Arbetsflödet '{name}' är klart.",
    },
    "approval_title": {
        "fi": "Hyväksy ennen jatkamista: {name}",
        "en": "Approve before continuing: {name}",
        "sv": "Godkänn innan fortsättning: {name}",
    },
    "approval_details": {
        "fi": "Vaihe '{step}' ({agent}) odottaa hyväksyntää.",
        "en": "Step '{step}' ({agent}) waits for approval.",
        "sv": "Steget '{step}' ({agent}) väntar på godkännande.",
    },
    # Composed plans (planner/composer.py): numbered steps of the explanation.
    "part_not_understood": {
        "fi": "En ymmärtänyt tätä osaa: '{quote}'. En tee suunnitelmaa, josta puuttuu "
        "osa pyynnöstä; muotoile se uudelleen tai jätä se pois.",
        "en": "I did not understand this part: '{quote}'. I do not make a plan that "
        "leaves out part of the request; rephrase it or leave it out.",
        "sv": "Jag förstod inte den här delen: '{quote}'. Jag gör ingen plan som "
        "lämnar bort en del av begäran; formulera om den eller ta bort den.",
    },
    "part_off_topic": {
        "fi": "Tämä osa ei kuulu tehtäviini: '{quote}'. En tee suunnitelmaa, josta "
        "puuttuu osa pyynnöstä.",
        "en": "This part is not work I can do: '{quote}'. I do not make a plan that "
        "leaves out part of the request.",
        "sv": "Den här delen kan jag inte utföra: '{quote}'. Jag gör ingen plan som "
        "lämnar bort en del av begäran.",
    },
    "step_files": {
        "fi": "Luetaan kansion {folder} tiedostot{narrow}.",
        "en": "List the files of the folder {folder}{narrow}.",
        "sv": "Lista filerna i mappen {folder}{narrow}.",
    },
    "narrow_pattern": {
        "fi": " (nimet {pattern})",
        "en": " (names {pattern})",
        "sv": " (namn {pattern})",
    },
    "narrow_added": {
        "fi": ", lisätty {period}",
        "en": ", added {period}",
        "sv": ", tillagda {period}",
    },
    "step_each": {
        "fi": "Käsitellään jokainen tiedosto: {name} ({count} kerrallaan).",
        "en": "Process each file: {name} ({count} at a time).",
        "sv": "Behandla varje fil: {name} ({count} åt gången).",
    },
    "step_document": {
        "fi": "{name}: tiedosto {file}.",
        "en": "{name}: the file {file}.",
        "sv": "{name}: filen {file}.",
    },
    "step_vat": {
        "fi": "Lasketaan ALV ajalta {period}.",
        "en": "Calculate the VAT for {period}.",
        "sv": "Beräkna momsen för {period}.",
    },
    "step_report": {
        "fi": "Tehdään talousraportti ajalta {period} ({format}).",
        "en": "Make the financial report for {period} ({format}).",
        "sv": "Gör den finansiella rapporten för {period} ({format}).",
    },
    "step_approve": {
        "fi": "Pyydetään hyväksyntä (päättäjä: vähintään rooli {role}{who}).",
        "en": "Ask for approval (decided by role {role} or higher{who}).",
        "sv": "Begär godkännande (beslutas av roll {role} eller högre{who}).",
    },
    "step_send": {
        "fi": "Lähetetään {what} osoitteeseen {recipients}{after}.",
        "en": "Send {what} to {recipients}{after}.",
        "sv": "Skicka {what} till {recipients}{after}.",
    },
    "after_approval": {
        "fi": " kun hyväksyntä on saatu",
        "en": " once approved",
        "sv": " när det har godkänts",
    },
    "when_clause": {
        "fi": " vain jos {measure} on {comparison} {amount}",
        "en": " only if {measure} is {comparison} {amount}",
        "sv": " bara om {measure} är {comparison} {amount}",
    },
    "when_otherwise": {
        "fi": " vain jos ei: {measure} {comparison} {amount}",
        "en": " only if not: {measure} {comparison} {amount}",
        "sv": " bara om inte: {measure} {comparison} {amount}",
    },
    "schedule_line": {
        "fi": "Ajetaan {when} (aikavyöhyke {timezone}); jokainen ajo laskee "
        "ajanjaksonsa ajohetkestä.",
        "en": "Runs {when} ({timezone}); each run works out its period when it runs.",
        "sv": "Körs {when} ({timezone}); varje körning räknar ut sin period när den "
        "körs.",
    },
    "schedule_fixed_period": {
        "fi": 'Ajastettu työ tarvitsee liukuvan ajanjakson (esim. "edelliseltä '
        'kuukaudelta", "kuluvalta kuukaudelta", "edelliseltä neljännekseltä", '
        '"edelliseltä vuodelta" tai "edelliseltä viikolta"); kiinteä jakso '
        "({period}) olisi joka ajossa sama.",
        "en": 'A scheduled task needs a rolling period (e.g. "the previous month", '
        '"this month", "the previous quarter", "the previous year" or "the '
        'previous week"); a fixed period ({period}) would be the same in every run.',
        "sv": 'En schemalagd uppgift behöver en rullande period (t.ex. "föregående '
        'månad", "innevarande månad", "föregående kvartal"); en fast period '
        "({period}) vore densamma i varje körning.",
    },
    "batch_total": {
        "fi": "Ehto summasta koskee yhtä asiakirjaa; kansiollisesta asiakirjoja ei "
        "ole yhtä summaa. Käsittele yksi tiedosto tai aseta ehto ALV-laskelmalle.",
        "en": "A condition on a total needs one document; a folder of documents has "
        "no single total. Process one file or put the condition on a VAT report.",
        "sv": "Ett villkor på en summa gäller ett dokument; en mapp med dokument har "
        "ingen enskild summa.",
    },
    "no_measure": {
        "fi": "Ehto ({measure}) tarvitsee sitä ennen tehtävän, joka tuottaa sen.",
        "en": "The condition ({measure}) needs a task before it that produces it.",
        "sv": "Villkoret ({measure}) behöver en uppgift före det som ger det.",
    },
    "nothing_to_send": {
        "fi": 'Lähetettävää ei ole: kerro, mikä lähetetään (esim. "tee ALV-laskelma '
        'viime kuulta ja lähetä se osoitteeseen nimi@yritys.fi").',
        "en": 'There is nothing to send: say what to send (e.g. "make the VAT report '
        'for last month and send it to name@company.fi").',
        "sv": "Det finns inget att skicka: säg vad som ska skickas.",
    },
    "person_approver": {
        "fi": "Hyväksyntää ei voi osoittaa henkilölle ({who}): sen voi tehdä kuka "
        "tahansa, jolla on vähintään rooli {role} (ei pyynnön tekijä itse).",
        "en": "An approval cannot be assigned to a person ({who}): anyone with role "
        "{role} or higher may decide (not the requester).",
        "sv": "Ett godkännande kan inte tilldelas en person ({who}): vem som helst "
        "med rollen {role} eller högre kan besluta.",
    },
    "composed_name": {
        "fi": "koottu työnkulku",
        "en": "composed workflow",
        "sv": "sammansatt arbetsflöde",
    },
    "default_hour": {
        "fi": "Kellonaikaa ei annettu: ajo klo {hour}.00.",
        "en": "No time of day was given: runs at {hour}:00.",
        "sv": "Ingen tid angavs: körs kl. {hour}.00.",
    },
}


def language_of(language: str | None) -> str:
    """``fi``, ``en`` or ``sv`` for any language tag (``en-GB`` is English);
    Finnish for anything else."""
    if language:
        tag = language.strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "fi"


def text(key: str, language: str, **values: object) -> str:
    """The message `key` in `language`, with `values` filled in."""
    return _TEXTS[key][language_of(language)].format(**values)


def capabilities(language: str) -> str:
    """What the copilot can do, with an example command for each of the four things."""
    return _CAPABILITIES[language_of(language)]


def refusal(key: str, language: str, **values: object) -> str:
    """A refusal: the reason (message `key`) followed by what the copilot can do."""
    return f"{text(key, language, **values)} {capabilities(language)}"


def template_name(template_id: str, language: str, fallback: str | None = None) -> str:
    """The template's name in `language`; `fallback` (or the id) when unknown."""
    names = TEMPLATE_NAMES.get(template_id)
    if names is None:
        return fallback or template_id
    return names[language_of(language)]
