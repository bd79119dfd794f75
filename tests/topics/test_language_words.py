"""The bundled topic's words per language, one test per gap found on the held-out part of the
language set: third countries named by their adjective, phone calls said with a verb, PLA and
Pentagon names in Cyrillic. Every sentence here is written for the test; none is an item of
bench/data/tagging."""

from __future__ import annotations

import pytest

from pipeline.config import bundled_topic
from pipeline.topics import Tagger, load_topics

TOPIC = "us-china-milcomm"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_topics([bundled_topic(TOPIC)]))


def tagged(tagger: Tagger, lang: str, title: str, text: str) -> bool:
    return any(t.topic == TOPIC for t in tagger.tag(title, text, lang))


# A third country's minister named only by the adjective ("el ministro filipino"): the sentence
# names China's minister, contact and the United States, so only the adjective tells the tagger
# that these are a third country's talks with China.
@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (
            "es",
            "Defensa: contactos en Pekín",
            "El ministro de Defensa surcoreano se reunió con Dong Jun y habló de las tropas de Estados Unidos.",
        ),
        (
            "es",
            "Defensa: contactos en Pekín",
            "El jefe de Defensa británico conversó con Dong Jun y citó su alianza con Estados Unidos.",
        ),
        (
            "it",
            "Difesa: incontro a Pechino",
            "Il ministro della Difesa giapponese ha incontrato Dong Jun e ha parlato della presenza degli Stati Uniti.",
        ),
        (
            "it",
            "Difesa: incontro a Pechino",
            "Il ministro della Difesa filippino ha avuto un colloquio con Dong Jun sugli Stati Uniti.",
        ),
        (
            "pt",
            "Defesa: encontro em Pequim",
            "O ministro da Defesa australiano reuniu-se com Dong Jun e falou da aliança com os Estados Unidos.",
        ),
        (
            "fr",
            "Défense : entretien à Pékin",
            "Le ministre de la Défense australien s'est entretenu avec Dong Jun de l'alliance avec les États-Unis.",
        ),
        (
            "de",
            "Verteidigung: Treffen in Peking",
            "Der australische Verteidigungsminister traf Dong Jun und sprach über die Allianz mit den USA.",
        ),
        ("ar", "لقاء دفاعي في بكين", "التقى وزير الدفاع البريطاني دونغ جون في بكين وتحدث عن الولايات المتحدة."),
        ("ar", "لقاء دفاعي في بكين", "اجتمع وزير الدفاع الكوري الجنوبي مع دونغ جون وناقشا الوجود العسكري الأمريكي."),
        (
            "uk",
            "Оборона: зустріч у Пекіні",
            "Японський міністр оборони зустрівся з Дун Цзюнем і говорив про союз зі США.",
        ),
        ("hi", "बीजिंग में रक्षा वार्ता", "ऑस्ट्रेलियाई रक्षा मंत्री ने डोंग जून से मुलाकात की और अमेरिका के साथ गठबंधन पर बात की।"),
    ],
)
def test_a_third_country_named_by_its_adjective_keeps_its_talks_with_china_untagged(
    tagger: Tagger, lang: str, title: str, text: str
) -> None:
    assert not tagged(tagger, lang, title, text)


# A call said with the verb ("llamó al general", "позвонил", "зателефонував") or "by telephone",
# and the PLA general named in Cyrillic with a case ending.
@pytest.mark.parametrize(
    ("lang", "title", "text"),
    [
        (
            "es",
            "Crónica de defensa",
            "El general Mark Milley llamó al general Li Zuocheng en julio de 2022 para hablar de Taiwán.",
        ),
        (
            "es",
            "Crónica de defensa",
            "Lloyd Austin y Dong Jun conversaron por teléfono durante una hora en abril de 2024.",
        ),
        ("es", "Austin se reúne con Dong Jun", "La cita fue en Singapur, en mayo de 2024."),
        (
            "ru",
            "Хроника обороны",
            "В июле 2022 года генерал Марк Милли позвонил начальнику Объединённого штаба НОАК Ли Цзочэну.",
        ),
        ("ru", "Хроника обороны", "Ллойд Остин и Дун Цзюнь поговорили по телефону в апреле 2024 года."),
        ("uk", "Хроніка оборони", "У липні 2022 року генерал Марк Міллі зателефонував генералу Лі Цзочену з НВАК."),
        ("uk", "Хроніка оборони", "Ллойд Остін і Дун Цзюнь провели телефонну розмову; це був перший дзвінок за рік."),
        (
            "it",
            "Cronaca della Difesa",
            "Il generale Mark Milley ha telefonato al generale Li Zuocheng nel luglio 2022.",
        ),
        (
            "de",
            "Chronik der Verteidigung",
            "US-Verteidigungsminister Lloyd Austin hat Dong Jun im April 2024 angerufen.",
        ),
    ],
)
def test_calls_said_with_a_verb_and_plas_generals_in_cyrillic_are_tagged(
    tagger: Tagger, lang: str, title: str, text: str
) -> None:
    assert tagged(tagger, lang, title, text)


def test_a_verb_of_calling_someone_something_is_not_a_call(tagger: Tagger) -> None:
    """Only "llamó al / a su" (calling a person) counts: "llamó a China" names, it does not phone."""
    assert not tagged(
        tagger,
        "es",
        "Duras palabras en el Congreso",
        "El secretario de Defensa Pete Hegseth llamó a China la amenaza principal de Estados Unidos.",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("امریکی وزیر دفاع نے چینی ہم منصب سے ٹیلی فون پر بات کی اور فوجی رابطے بحال رکھنے پر زور دیا۔", "ur"),
        ("وزیر دفاع آمریکا با همتای چینی خود تلفنی گفتگو کرد و بر حفظ ارتباط نظامی تأکید کرد.", "fa"),
    ],
)
def test_explain_names_persian_and_urdu_items_without_a_declared_language(
    tagger: Tagger, text: str, expected: str
) -> None:
    """An undeclared item's language is guessed from its text: Persian and Urdu are not "ar"."""
    account = tagger.explain("", text)
    assert account["language"] == expected
    assert all(t["language_has_rules"] for t in account["topics"])
