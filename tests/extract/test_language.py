"""The language guess for undeclared pages tells Persian and Urdu from Arabic (all Arabic script).

Sentences written for the test."""

from __future__ import annotations

import pytest

from pipeline.extract.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("أجرى وزير الدفاع اتصالا هاتفيا مع نظيره وبحث الجانبان الوضع في المنطقة وسبل خفض التوتر.", "ar"),
        # An Arabic report naming a foreign place with گ is still Arabic.
        ("وصل الوفد إلى هامبورگ صباح الأحد وعقد اجتماعا مع المسؤولين في الميناء لبحث التعاون.", "ar"),
        ("وزیر دفاع روز یکشنبه با همتای خود گفتگو کرد و دو طرف درباره امنیت منطقه رایزنی کردند.", "fa"),
        ("وزیر دفاع نے اتوار کو اپنے ہم منصب سے ٹیلی فون پر بات کی اور خطے کی صورتحال پر تبادلہ خیال کیا۔", "ur"),
    ],
)
def test_arabic_persian_and_urdu_are_told_apart(text: str, expected: str) -> None:
    assert detect_language(text) == expected
