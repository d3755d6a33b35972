"""The offline planner's words: Finnish lemmas (as Voikko gives them) and English and
Swedish word forms, grouped by what they mean to the planner.

Finnish words are matched by lemma, so every inflected form counts ("kuiteista",
"kuitin" and "kuittia" are all `kuitti`); English and Swedish words are listed in the
forms people write.
"""

from __future__ import annotations

# --- what to do -----------------------------------------------------------------------

# Substrings of a Finnish lemma (compounds included: "alv-laskelma",
# "arvonlisäverolaskelma", "kausiveroilmoitus").
VAT_FI_STEMS = ("alv", "arvonlisävero", "vero")
VAT_FOREIGN_PREFIXES = ("vat", "moms", "mervärdesskatt")
VAT_FOREIGN_PHRASES = ("value added tax", "value-added tax", "sales tax")

REPORT_FI_STEMS = ("raportti", "tuloslaskelma", "laskelma", "tilinpäätös", "yhteenveto")
REPORT_FI_LEMMAS = frozenset(
    {
        "raportoida", "tase", "tulos", "tulo", "meno", "kulu", "myynti",
        "liikevaihto", "kannattavuus", "talous", "voitto", "tappio", "kate",
    }
)  # fmt: skip
REPORT_FOREIGN_PREFIXES = (
    "report",
    "rapport",
    "resultaträkning",
    "finansiell",
    "financial",
    "statement",
    "sammanställning",
)
REPORT_FOREIGN_WORDS = frozenset(
    {"p&l", "profit", "income", "expenses", "summary", "revenue", "intäkter"}
)

RECEIPT_FI_STEMS = ("kuitti", "tosite")
RECEIPT_FOREIGN_PREFIXES = ("receipt", "kvitto", "kvitton")
INVOICE_FI_STEMS = ("lasku",)  # a lemma ending in it: lasku, ostolasku, sähkölasku
INVOICE_FOREIGN_PREFIXES = ("invoice", "faktur", "leverantörsfaktur")
INVOICE_FOREIGN_WORDS = frozenset({"bill", "bills"})

SEND_FI = frozenset(
    {"lähettää", "lähetä", "toimittaa", "mailata", "meilata", "postittaa"}
)
# Words that say where the result goes ("osoitteeseen", "by e-mail").
SEND_CUES = frozenset(
    {
        "osoitteeseen", "osoitteisiin", "sähköpostilla", "sähköpostitse",
        "spostilla", "meilillä", "mailitse", "vastaanottaja", "recipient",
        "recipients", "mottagare", "mottagaren",
    }
)  # fmt: skip
# "email" and "mail" ask to send only before these ("email it to ...", "per e-post
# till"); alone they are a cue ("by email").
MAIL_WORDS = frozenset({"email", "e-mail", "mail", "e-post", "mejl"})
MAIL_VERB_OBJECTS = frozenset(
    {"it", "to", "me", "them", "the", "this", "den", "det", "till"}
)
SEND_FOREIGN = frozenset(
    {
        "send", "forward", "skicka", "mejla", "maila",
        "e-posta",
    }
)  # fmt: skip

# --- refusals -------------------------------------------------------------------------

OFF_TOPIC_FI = frozenset(
    {
        "sää", "sääennuste", "runo", "runoilla", "vitsi", "laulu", "tarina", "satu",
        "resepti", "uutinen", "horoskooppi", "elokuva", "urheilu", "jalkapallo",
        "lämpötila",
    }
)  # fmt: skip
OFF_TOPIC_FOREIGN = frozenset(
    {
        "weather", "poem", "poetry", "haiku", "joke", "song", "story", "recipe", "news",
        "movie", "horoscope", "väder", "vädret", "dikt", "skämt", "sång", "recept",
        "nyheter", "berättelse",
    }
)  # fmt: skip

RIGHTS_FI = frozenset(
    {
        "ylläpitäjä", "admin", "pääkäyttäjä", "rooli", "käyttöoikeus", "oikeus",
        "salasana", "api-avain", "token", "järjestelmäkehote", "kehote",
        "jailbreak", "sudo", "superkäyttäjä", "pääsyoikeus",
    }
)  # fmt: skip
RIGHTS_FOREIGN = frozenset(
    {
        "admin", "administrator", "role", "roles", "permission", "permissions",
        "privilege", "privileges", "password", "token", "sudo", "root", "superuser",
        "jailbreak", "administratör", "administratörs", "roll", "rollen",
        "behörighet", "behörigheter", "lösenord", "api-nyckel", "api-key", "apikey",
    }
)  # fmt: skip
RIGHTS_FOREIGN_PREFIXES = (
    "admin",
    "administrat",
    "behörighet",
    "privilege",
    "permission",
    "superuser",
)
API_WORDS = frozenset({"api"})
KEY_WORDS = frozenset({"avain", "key", "keys", "nyckel", "nyckeln", "nycklar"})
OVERRIDE_FI = frozenset({"ohittaa", "unohtaa", "sivuuttaa", "ohita", "unohda"})
OVERRIDE_FOREIGN = frozenset(
    {
        "ignore", "disregard", "forget", "override", "bypass", "ignorera", "glöm",
        "strunta",
    }
)  # fmt: skip
INSTRUCTION_FI = frozenset({"ohje", "ohjeistus", "sääntö", "rajoitus", "kehote"})
INSTRUCTION_FOREIGN = frozenset(
    {
        "instruction", "instructions", "rules", "prompt", "instruktion",
        "instruktioner", "instruktionerna", "regler", "reglerna",
    }
)  # fmt: skip

TENANT_WORDS = frozenset({"tenant", "tenantti", "tenants", "tenant_id", "tenant-id"})
ORG_FI = frozenset(
    {
        "yritys", "asiakas", "firma", "yhtiö", "organisaatio", "vuokralainen",
        "kilpailija", "käyttäjä",
    }
)  # fmt: skip
ORG_FOREIGN = frozenset(
    {
        "company", "companies", "customer", "customers", "client", "clients",
        "organisation", "organisations", "organization", "organizations", "företag",
        "företagets", "företagen", "företags", "kund", "kunder", "kunders",
        "organisationer", "user", "users", "användare", "användarna",
    }
)  # fmt: skip
OTHERS_FI = frozenset({"toinen", "muu", "vieras", "kilpaileva"})
ALL_FI = frozenset({"kaikki", "jokainen"})
OTHERS_FOREIGN = frozenset(
    {"other", "another", "others", "all", "every", "andra", "annat", "alla", "varje"}
)
COMPETITOR = frozenset({"kilpailija", "competitor", "competitors", "konkurrent"})

DELETE_FI = frozenset(
    {
        "poistaa",
        "poista",
        "tuhota",
        "tyhjentää",
        "pyyhkiä",
        "nollata",
        "hävittää",
        "kumota",
        "mitätöidä",
        "perua",
    }
)
DELETE_FOREIGN = frozenset(
    {
        "delete", "remove", "erase", "wipe", "drop", "truncate", "purge", "destroy",
        "radera", "bort", "töm", "tömma", "rensa",
    }
)  # fmt: skip

# --- periods --------------------------------------------------------------------------

PREVIOUS_FI = frozenset({"viime", "edellinen", "mennyt", "viimeisin", "kulunut"})
PREVIOUS_FOREIGN = frozenset(
    {"last", "previous", "past", "prior", "förra", "föregående"}
)
LAST_N_FI = frozenset({"viimeinen", "viime", "edellinen", "mennyt", "viimeisin"})
LAST_N_FOREIGN = frozenset(
    {"last", "past", "previous", "senaste", "förra", "föregående"}
)
CURRENT_FI = frozenset({"tämä", "kuluva", "nykyinen", "tämänhetkinen"})
CURRENT_FOREIGN = frozenset(
    {"this", "current", "denna", "detta", "innevarande", "nuvarande", "pågående"}
)
LATEST_FI = frozenset({"viimeinen"})  # "viimeiseltä kuukaudelta" without a count
LATEST_FOREIGN = frozenset({"senaste"})

MONTH_UNIT_FI = frozenset({"kuukausi", "kuu", "kk"})
MONTH_UNIT_FOREIGN = frozenset(
    {
        "month",
        "months",
        "month's",
        "månad",
        "månaden",
        "månader",
        "månaderna",
        "månads",
        "månadens",
    }
)
QUARTER_UNIT_FI = frozenset({"neljännes", "vuosineljännes", "kvartaali", "kvartti"})
QUARTER_UNIT_FOREIGN = frozenset(
    {"quarter", "quarters", "kvartal", "kvartalet", "kvartalen", "kvartals"}
)
YEAR_UNIT_FI = frozenset({"vuosi"})
YEAR_UNIT_FOREIGN = frozenset({"year", "years", "år", "året", "årets", "åren"})
WEEK_UNIT_FI = frozenset({"viikko", "vko"})
WEEK_UNIT_FOREIGN = frozenset(
    {"week", "weeks", "vecka", "veckan", "veckor", "veckorna"}
)
FISCAL_FI = frozenset({"tilikausi", "tilivuosi"})
HALF_UNIT_FI = frozenset({"vuosipuolisko", "puolivuotiskausi", "puolivuosi"})
HALF_UNIT_FOREIGN = frozenset({"half", "half-year", "halvår", "halvåret", "halvårs"})
FISCAL_FOREIGN = frozenset({"räkenskapsår", "räkenskapsåret", "räkenskapsårets"})
FISCAL_FOREIGN_PHRASES = ("fiscal year", "financial year")

START_FI = frozenset({"alku"})  # "vuoden alusta", "kuun alusta"
YEAR_TO_DATE_PHRASES = (
    "year to date",
    "year-to-date",
    "ytd",
    "hittills i år",
    "från årets början",
    "sedan årsskiftet",
    "vuodenvaihteesta",
    "since the start of the year",
    "since the beginning of the year",
)
YESTERDAY = frozenset({"eilen", "eilinen", "yesterday", "igår"})
TODAY = frozenset({"tänään", "tämänpäiväinen", "today", "idag"})
SINCE_FI = frozenset({"alkaen", "lähtien", "lähteä"})
SINCE_FOREIGN = frozenset({"since", "from", "från", "sedan"})

MONTHS_FI = {
    "tammikuu": 1, "helmikuu": 2, "maaliskuu": 3, "huhtikuu": 4, "toukokuu": 5,
    "kesäkuu": 6, "heinäkuu": 7, "elokuu": 8, "syyskuu": 9, "lokakuu": 10,
    "marraskuu": 11, "joulukuu": 12,
}  # fmt: skip
# "tammi-maaliskuu", "syys–lokakuulta": the first month of a range, shortened.
MONTH_PREFIXES = {
    "tammi": 1, "helmi": 2, "maalis": 3, "huhti": 4, "touko": 5, "kesä": 6,
    "heinä": 7, "elo": 8, "syys": 9, "loka": 10, "marras": 11, "joulu": 12,
}  # fmt: skip
MONTHS_FOREIGN = {
    "january": 1, "jan": 1, "januari": 1, "february": 2, "feb": 2, "februari": 2,
    "march": 3, "mars": 3, "april": 4, "apr": 4, "may": 5, "maj": 5, "june": 6,
    "juni": 6, "july": 7, "juli": 7, "august": 8, "aug": 8, "augusti": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "oktober": 10,
    "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip

ORDINALS = {
    "ensimmäinen": 1, "toinen": 2, "kolmas": 3, "neljäs": 4, "first": 1, "second":
    2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "första": 1,
    "andra": 2, "tredje": 3, "fjärde": 4,
}  # fmt: skip

NUMBERS = {
    "yksi": 1, "kaksi": 2, "kolme": 3, "neljä": 4, "viisi": 5, "kuusi": 6,
    "seitsemän": 7, "kahdeksan": 8, "yhdeksän": 9, "kymmenen": 10, "yksitoista": 11,
    "kaksitoista": 12, "kahdeksantoista": 18, "kaksikymmentäneljä": 24, "one": 1,
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18, "twenty-four":
    24, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8,
    "nio": 9, "tio": 10, "elva": 11, "tolv": 12, "arton": 18,
}  # fmt: skip

# --- formats and languages ------------------------------------------------------------

FORMAT_WORDS = {
    "pdf": "pdf",
    "csv": "csv",
    "json": "json",
    "markdown": "markdown",
    "md": "markdown",
    "excel": "xlsx",
    "exceliin": "xlsx",
    "excelinä": "xlsx",
    "excelissä": "xlsx",
    "excel-muodossa": "xlsx",
    "excel-tiedostona": "xlsx",
    "xlsx": "xlsx",
    "xls": "xlsx",
    # Formats people ask for that the reports do not make: passed on, so that the
    # plan is refused with the list of formats that exist.
    "docx": "docx",
    "doc": "doc",
    "html": "html",
    "odt": "odt",
    "rtf": "rtf",
    "txt": "txt",
    "xml": "xml",
}

ENGLISH = frozenset(
    {
        "the", "a", "an", "for", "of", "and", "to", "from", "create", "make",
        "generate", "build", "prepare", "process", "book", "record", "read", "scan",
        "report", "receipt", "invoice", "send", "last", "this", "month", "quarter",
        "year", "week", "please", "me", "my", "our", "us", "at", "in", "file", "as",
        "with", "what", "is", "it", "can", "could", "you", "would", "like", "i",
        "want", "need", "calculate", "financial", "vat", "previous", "current",
        "today", "yesterday", "write", "delete", "all", "data", "ignore", "key",
        "give", "weather", "tomorrow", "poem", "show", "get", "on", "by", "then",
        "was",
    }
)  # fmt: skip
SWEDISH = frozenset(
    {
        "en", "ett", "för", "och", "till", "från", "skapa", "gör", "göra",
        "rapport", "finansiell", "månaden", "månad", "förra", "kvartalet",
        "kvartal", "skicka", "kvitto", "kvittot", "faktura", "fakturan", "moms",
        "momsrapport", "året", "år", "detta", "denna", "mitt", "min", "mig", "av",
        "det", "den", "som", "är", "vad", "kan", "du", "jag", "vill", "behöver",
        "tack", "beräkna", "behandla", "bokför", "läs", "senaste", "tredje",
        "andra", "första", "fjärde", "veckan", "igår", "idag", "radera", "alla",
        "uppgifter", "vädret", "dikt", "om", "med", "på", "i", "hela",
        "sammanställning",
    }
)  # fmt: skip

# Colloquial Finnish that Voikko does not know; never "corrected" as typos.
COLLOQUIAL = frozenset(
    {
        "mulle", "mulla", "mun", "mä", "sä", "sulle", "sun", "tää", "toi", "noi",
        "pliis", "plz", "kiitti", "kiitos", "moi", "hei", "jooko", "vaikka",
        "niinku", "tsekkaa", "heti", "nopee", "nopeesti", "äkkiä", "pls",
    }
)  # fmt: skip

ALL_FINNISH_VOCABULARY = frozenset(
    {
        *REPORT_FI_LEMMAS, "talousraportti", "raportti", "tuloslaskelma",
        "laskelma", "tilinpäätös", "yhteenveto", "arvonlisävero",
        "arvonlisäverolaskelma", "alv-laskelma", "alv-ilmoitus", "veroilmoitus",
        "kuitti", "ostokuitti", "lasku", "ostolasku", "käsitellä", "kirjata",
        "laatia", "luoda", "tehdä", "muodostaa", "laskea", "lähettää", "toimittaa",
        "sähköposti", "osoite", *PREVIOUS_FI, *LAST_N_FI, *CURRENT_FI,
        *MONTH_UNIT_FI, *QUARTER_UNIT_FI, *YEAR_UNIT_FI, *WEEK_UNIT_FI, *FISCAL_FI,
        *MONTHS_FI, *ORDINALS, *NUMBERS, "eilen", "eilinen", "tänään", "poistaa",
        "ylläpitäjä", "tarvita", "haluta", "voida", "kuukausiraportti",
        "vuosiraportti", "neljännesvuosiraportti", "ajanjakso", "alkaen", "lähtien",
    }
)  # fmt: skip

# --- composed commands (planner/offline.py `read`) ------------------------------------

# Verbs the copilot acts on; an imperative of any other verb is a part it cannot do.
ACTION_VERBS_FI = frozenset(
    {
        "käsitellä", "kirjata", "lukea", "skannata", "tehdä", "laatia", "laskea",
        "luoda", "lähettää", "laittaa", "ilmoittaa", "pyytää", "hyväksyä",
        "hyväksyttää", "toimittaa", "muodostaa", "tuottaa", "koota", "ajaa", "käydä",
        "tarkistaa", "valmistella", "generoida", "tallentaa", "listata", "hakea",
        "poimia", "kerätä", "meilata", "mailata", "postittaa", "välittää", "näyttää",
        "selvittää", "katsoa", "käyttää", "tulostaa", "viedä", "koostaa",
        "kirjoittaa", "avata", "vahvistaa", "odottaa", "jatkaa", "ottaa",
    }
)  # fmt: skip
FOLDER_WORDS = ("kansio", "hakemisto", "folder", "directory", "mapp", "katalog")
BATCH_FI = frozenset({"kaikki", "jokainen", "kukin"})
BATCH_FOREIGN = frozenset({"all", "every", "each", "alla", "varje"})
APPROVAL_FI = frozenset(
    {"hyväksyntä", "hyväksyä", "hyväksyttää", "hyväksytä", "hyväksyminen", "hyväksyjä"}
)
APPROVAL_FOREIGN_PREFIXES = ("approv", "sign-off", "godkän", "godkänn")
PRONOUNS = frozenset(
    {"se", "sen", "ne", "niistä", "siitä", "niitä", "it", "them", "den", "dem",
     "det", "tämä", "nämä", "tästä", "näistä"}
)  # fmt: skip
PAYABLE_FI = ("maksettava", "maksettavaa", "maksettavan")
REFUND_FI = ("palautettava", "palautus", "palautuu", "palautettavaa")
TOTAL_WORDS = ("summa", "loppusumma", "yhteensä", "total", "amount", "summan", "belopp")
EXPENSE_WORDS = ("kulu", "kulut", "menot", "expense", "kostnad")
INCOME_WORDS = (
    "tulot",
    "myynti",
    "liikevaihto",
    "income",
    "revenue",
    "sales",
    "intäkt",
)
RESULT_WORDS = ("tulos", "voitto", "profit", "result", "resultat")
ROLE_NOUNS = frozenset(
    {
        "toimitusjohtaja", "esimies", "johtaja", "talouspäällikkö", "kirjanpitäjä",
        "hallitus", "ylläpitäjä", "pääkäyttäjä", "omistaja", "controller", "manager",
    }
)  # fmt: skip
# Taxes that are not VAT: the copilot does not compute them.
OTHER_TAXES = ("tulovero", "kiinteistövero", "ennakkovero", "perintövero", "lahjavero",
               "varainsiirtovero", "yhteisövero", "pääomatulovero", "ansiotulovero",
               "autovero", "ajoneuvovero", "income tax", "property tax")  # fmt: skip
MESSAGE_NOUNS = frozenset(
    {"viesti", "ilmoitus", "tieto", "meili", "maili", "sähköposti", "message",
     "notification", "meddelande", "besked"}
)  # fmt: skip
PLURAL_PRONOUNS = frozenset(
    {"ne", "niitä", "niistä", "nämä", "näistä", "molemmat", "molemmista", "them",
     "both", "dem", "båda"}
)  # fmt: skip
