"""Per-language morphology for term matching: what may be glued before or after a listed word.

A topic file lists words; how they appear in running text depends on the language. These tables
say it once per language instead of once per term (documented for users in the bundled topic's
header, "MATCHING PER LANGUAGE"):

  * Latin-script languages by default: the listed word, plus -s / -es / 's (English plurals).
  * Slavic (ru, uk, be, pl, cs): a case ending of up to three letters may follow the stem
    ("Пентагон" matches Пентагона, Пентагоном; "rozmow" matches rozmowy, rozmowach).
  * Arabic script (ar, fa, ur): the clitics و ف ب ل ك and the article ال may precede
    (والبنتاغون, بالصين, للبنتاغون), pronoun, plural and nisba endings may follow (الصينية).
  * Indonesian and Malay (id, ms): the affixes ber-/pe(r/m/n/ng)-/me(m/n/ng)-/di-/ter-/ke- before,
    -an/-kan/-i and the clitics -nya/-lah/-kah/-pun after ("bicara" matches pembicaraan,
    berbicara; "militer" matches militernya).
  * Tagalog (tl): the verbal prefixes nag-/mag-/pag-/nakipag-/makipag- before, -an/-in after.
  * Turkish (tr): case and possessive endings after (görüşme -> görüşmesi, görüşmede).
  * Hindi (hi): plural/oblique endings (वार्ता -> वार्ताओं); each term is also looked for without
    nukta and in both Unicode forms (फ़ोन = फोन).
  * Vietnamese (vi): each multi-syllable term is also looked for without diacritics
    ("Bộ trưởng Quốc phòng" matches "Bo truong Quoc phong"). Single syllables are not: bare
    "my" would be English "my", not Mỹ.
  * Korean (ko), Thai (th), Chinese, Japanese: matched without word boundaries (see match.py):
    a Korean term is the start of an eojeol, so particles and endings may follow (미국과,
    국방장관은, 통화했다); a Korean term starting with "*" may also sit inside a compound.

Affixes are checked only where a hit already sits inside a longer word, so they cost nothing on
text that contains none of the terms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ENGLISH_SUFFIXES = frozenset(("s", "es"))

# Case endings, Cyrillic and Polish/Czech, up to three letters (ё folded by lower-casing only).
_SLAVIC_SUFFIXES = _set(
    "а я у ю ом ем ём ой ей ою ею е и ы ов ев ам ям ами ями ах ях ий ый ая ое ые ого его ому ему ым им ую ых "
    " их ів їв і ї є ій ої ою ім ими ові "
    "a u y i e ę ą ów om ami ach owi em ie ego emu ym im ej ich imi ch ou ové ům ách"
)

# Arabic-script clitics, written as the text is folded (see ARABIC_FOLD): alef forms -> ا.
_ARABIC_PREFIXES = _set("و ف ب ل ك ال وال فال بال كال لل ولل فلل وب ول فب فل وك س وس")
_ARABIC_SUFFIXES = _set("ا ي يه ين يون يان ييه يين ه ها هم هما ان ون ات ته تها تهم كم نا اي هاي ش شان اش ے وں يں")

_MALAY_PREFIXES = _set(
    "ber be bel per pe pem pen peng penge pel me mem men meng menge mempel memper di diper ter ke se"
)
_MALAY_SUFFIXES = _set("an kan i nya lah kah pun annya kannya inya nyalah anlah an-nya")

_TAGALOG_PREFIXES = _set("nag mag pag nakipag makipag pakikipag ipinag ipag na ma i ni")
_TAGALOG_SUFFIXES = _set("an han in hin ng")

_TURKISH_SUFFIXES = _set(
    "ı i u ü ın in un ün sı si su sü nı ni nu nü da de ta te dan den tan ten la le lar ler ları leri "
    "nda nde ndan nden yla yle nın nin nun nün sında sinde sını sini ları lerin ların ydı ydi"
)

_HINDI_SUFFIXES = frozenset(("ों", "ें", "ओं", "एं", "ाओं", "े", "ी", "ा", "ो", "ियों", "यों"))

_NUKTA = "\u093c"
# Precomposed nukta letters (क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़) and their base consonants.
_NUKTA_LETTERS = dict(zip("\u0958\u0959\u095a\u095b\u095c\u095d\u095e\u095f", "कखगजडढफय", strict=True))


@dataclass(frozen=True)
class Morphology:
    prefixes: frozenset[str] = frozenset()  # what may be glued before a term
    suffixes: frozenset[str] = _ENGLISH_SUFFIXES  # what may be glued after it (no '*' needed)
    strip_diacritics: bool = False  # also look for the term without diacritics (Vietnamese)
    nukta: bool = False  # also look for the term without nukta, composed and decomposed (Hindi)

    def variants(self, term: str) -> list[str]:
        """The spellings of `term` to look for, the term itself first."""
        out = [term]
        if self.strip_diacritics and " " in term.strip():
            out.append(strip_diacritics(term))
        if self.nukta:
            out += [unicodedata.normalize("NFC", term), unicodedata.normalize("NFD", term), strip_nukta(term)]
        return list(dict.fromkeys(out))


DEFAULT = Morphology()
_SLAVIC = Morphology(suffixes=_SLAVIC_SUFFIXES | _ENGLISH_SUFFIXES)
_ARABIC = Morphology(prefixes=_ARABIC_PREFIXES, suffixes=_ARABIC_SUFFIXES)
BY_LANGUAGE: dict[str, Morphology] = {
    "ru": _SLAVIC, "uk": _SLAVIC, "be": _SLAVIC, "pl": _SLAVIC, "cs": _SLAVIC,
    "ar": _ARABIC, "fa": _ARABIC, "ur": _ARABIC,
    "id": Morphology(prefixes=_MALAY_PREFIXES, suffixes=_MALAY_SUFFIXES | _ENGLISH_SUFFIXES),
    "ms": Morphology(prefixes=_MALAY_PREFIXES, suffixes=_MALAY_SUFFIXES | _ENGLISH_SUFFIXES),
    "tl": Morphology(prefixes=_TAGALOG_PREFIXES, suffixes=_TAGALOG_SUFFIXES | _ENGLISH_SUFFIXES),
    "tr": Morphology(suffixes=_TURKISH_SUFFIXES),
    "hi": Morphology(suffixes=_HINDI_SUFFIXES, nukta=True),
    "vi": Morphology(strip_diacritics=True),
}  # fmt: skip


def for_language(language: str) -> Morphology:
    return BY_LANGUAGE.get(language, DEFAULT)


def strip_diacritics(text: str) -> str:
    """'Bộ trưởng Quốc phòng' -> 'Bo truong Quoc phong' (đ -> d as well)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def strip_nukta(text: str) -> str:
    return "".join(_NUKTA_LETTERS.get(c, c) for c in text).replace(_NUKTA, "")


# Arabic-script letters written several ways: hamza-carrying alefs, alef maqsura, teh marbuta,
# and the Persian/Urdu yeh, kaf and heh. One character to one, so offsets stay valid.
ARABIC_FOLD = str.maketrans(
    {
        "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",
        "\u0649": "\u064a", "\u06cc": "\u064a", "\u0629": "\u0647", "\u06c1": "\u0647", "\u06c3": "\u0647",
        "\u06a9": "\u0643", "\u06be": "\u0647",
    }
)  # fmt: skip
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
