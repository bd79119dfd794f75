"""Text preparation for topic matching: script folding for terms, text folding, sentence splitting.

Every mapping here is one character to one character, so offsets found in folded text are valid
in the original and evidence can quote the sentence exactly as published.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .morph import ARABIC_FOLD, ARABIC_SCRIPT

_ARABIC_PAIRS = [(chr(old), new) for old, new in ARABIC_FOLD.items()]

# Traditional -> simplified for the characters that occur in defence and diplomatic reporting.
# Terms are folded to simplified and then expanded back into every traditional spelling (see
# script_variants), so the text itself never needs converting: str.translate on non-ASCII text
# cost ~250 us per 5 KB, half the speed budget. No library (opencc, zhconv) is needed for this.
_TRADITIONAL = (
    "國軍長話對談與會電區戰務溝聯繫機製復斷絕協議臺灣華關係視頻艦為們號總統參謀員導熱線層級雙邊這個將東"
    "蘭實雖從來時間內兩際問題見應約發進過還開處護衛隊陸空飛彈導彈衝突穩關鍵領導講論說許認識訪門體軍"
    "務習練演艦船艇海權權維議題貿經濟稅氣候變毒藥麥邁澳韓俄羅斯亞歐盟員團訪問擊戰爭誤判險緊張態勢鬥"
    "備戰術略報紙聞傳訊號碼調查監偵測攔截驅離駛過航峽灣島嶼礁盧勢態勞動運輸產貨幣銀行債務財政預算"
    "審計劃規則條約簽署達成識別決斷職責專業術語詞彙編輯書畫圖樣樂觀悲歡難題壓邀請設置啟動終結構建"
    "舉辦廳長鳳魏俠張劉誼稱顧隨錄點贊輪車裝彈藥槍砲陣營戶邏輯緣網絡狀況聯絡處罰劇烈觸碰應對擴寫聽"
    "聲頭腦歷史舊資訊黨鮮麗顯務實穩讓歲廣場濟貝羅爾蘇頓盛魯賓遜約翰遠東幾乎現態勢紀錄邊界幹線則專員"
    "萬凱剛吳壇奧曉樓諾諜謙竊換"
)
_SIMPLIFIED = (
    "国军长话对谈与会电区战务沟联系机制复断绝协议台湾华关系视频舰为们号总统参谋员导热线层级双边这个将东"
    "兰实虽从来时间内两际问题见应约发进过还开处护卫队陆空飞弹导弹冲突稳关键领导讲论说许认识访门体军"
    "务习练演舰船艇海权权维议题贸经济税气候变毒药麦迈澳韩俄罗斯亚欧盟员团访问击战争误判险紧张态势斗"
    "备战术略报纸闻传讯号码调查监侦测拦截驱离驶过航峡湾岛屿礁卢势态劳动运输产货币银行债务财政预算"
    "审计划规则条约签署达成识别决断职责专业术语词汇编辑书画图样乐观悲欢难题压邀请设置启动终结构建"
    "举办厅长凤魏侠张刘谊称顾随录点赞轮车装弹药枪炮阵营户逻辑缘网络状况联络处罚剧烈触碰应对扩写听"
    "声头脑历史旧资讯党鲜丽显务实稳让岁广场济贝罗尔苏顿盛鲁宾逊约翰远东几乎现态势纪录边界干线则专员"
    "万凯刚吴坛奥晓楼诺谍谦窃换"
)
assert len(_TRADITIONAL) == len(_SIMPLIFIED)

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'}

_TABLE: dict[int, str] = {ord(t): s for t, s in zip(_TRADITIONAL, _SIMPLIFIED, strict=True) if t != s}
_TABLE.update({ord(d): "-" for d in _DASHES})
_TABLE.update({ord(q): r for q, r in _QUOTES.items()})
_TABLE[0xA0] = " "


_TO_TRADITIONAL: dict[str, list[str]] = {}
for _t, _s in zip(_TRADITIONAL, _SIMPLIFIED, strict=True):
    if _t != _s and _t not in _TO_TRADITIONAL.setdefault(_s, []):
        _TO_TRADITIONAL[_s].append(_t)


def normalise(text: str) -> str:
    """Same length as `text`: simplified Chinese, ASCII hyphens and apostrophes (for terms)."""
    return text.translate(_TABLE)


def script_variants(term: str, limit: int = 32) -> list[str]:
    """The simplified form of a Chinese term and its traditional spellings (at most `limit`)."""
    variants = [""]
    for char in normalise(term):
        options = [char, *_TO_TRADITIONAL.get(char, ())]
        variants = [v + o for v in variants for o in options][:limit]
    return variants


# Separators and quotes folded with str.replace, which stays fast on non-ASCII text.
_FOLDS = [(d, " ") for d in _DASHES + "-\n\t\r"] + [(q, "'") for q in ("\u2018", "\u2019", "\u02bc")]


def fold(text: str) -> str:
    """What term matching scans: same length as `text`, lower case, separators as spaces.

    Arabic-script text also has its letter variants folded (ARABIC_FOLD); only such text pays.
    """
    folded = text.lower()
    if len(folded) != len(text):  # a few letters (e.g. "İ") lower-case to two characters
        folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    if not folded.isascii() and ARABIC_SCRIPT.search(folded):
        # str.replace per letter: several times faster than str.translate on non-ASCII text
        for old, new in _ARABIC_PAIRS:
            if old in folded:
                folded = folded.replace(old, new)
    return fold_separators(folded)


def fold_separators(text: str) -> str:
    if text.isalnum():  # the common case for a short term such as "US"
        return text
    for old, new in _FOLDS:
        if old in text:
            text = text.replace(old, new)
    return text


# Abbreviations whose full stop does not end a sentence ("Gen. Brown", "Lt. Col. Smith").
# fmt: off
_ABBREVIATIONS = (
    "gen", "adm", "lt", "col", "maj", "capt", "cmdr", "sgt", "sen", "rep", "gov", "dr", "mr", "mrs",
    "ms", "st", "jr", "sr", "no", "vs", "etc", "inc", "corp", "co", "dept", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ft", "prof", "pres", "rev",
)
# fmt: on
# One regex, no Python per sentence. It starts with a character class so the engine can skip
# straight to punctuation (a leading look-behind made it test every position: 4x slower); the
# look-behinds then veto the full stop of an abbreviation or an initial ("U.S.", "Charles Q.").
_BOUNDARY = re.compile(
    r"[.!?…。！？；\n।۔؟](?:"
    + r"(?<=[.!?…।۔؟])"
    # Look-behinds must have a fixed width, so the abbreviations go in one per length.
    + "".join(
        rf"(?<!\b(?i:{'|'.join(a for a in _ABBREVIATIONS if len(a) == n)})\.)"
        for n in sorted({len(a) for a in _ABBREVIATIONS})
    )
    # ...nor a German or Polish ordinal ("am 1. November", "21. grudnia").
    + r"(?<!\b[A-Za-z]\.)(?<!\b\d\.)(?<!\b\d\d\.)[.!?…।۔؟]*[\"')\]]*\s+(?![a-zäöüß])"
    + r"|(?<=[。！？；])[。！？；]*[”」』\"]*\s*"
    + r"|(?<=\n)\s*)"
)


class Sentence(NamedTuple):
    index: int
    start: int  # offsets into the item's combined text (surrounding spaces included)
    end: int
    is_title: bool


def sentence_starts(text: str, offset: int = 0) -> list[int]:
    """Start offsets of the sentences of `text` (each runs to the next start)."""
    return [offset] + [offset + m.end() for m in _BOUNDARY.finditer(text) if m.end() < len(text)]
