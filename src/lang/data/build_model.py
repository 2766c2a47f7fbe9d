#!/usr/bin/env python3
"""Build quire's compact Latin-script language model (`latin.qlm`) from lingua's n-gram tables.

Input: a directory of `<language>.tsv` files (n-gram TAB ln P(last char | preceding chars)),
as written by the `dump` helper beside this script from lingua-rs's model crates
(Apache-2.0). Output: a zlib-compressed binary read by `src/lang/model.rs`.

What it does, and why:
1. lingua stores conditional probabilities P(c_n | c_1..c_n-1) of letter-only n-grams
   (orders 1-5), each computed as count(c_1..c_n) / count(c_1..c_n-1). Multiplying along
   the prefixes gives count(n-gram) / total letters, so the exact counts come back.
2. lingua's Vietnamese alphabet lacks the plain letter "â" (its toned forms are there), so
   every n-gram holding "â" is missing. They are re-created from the toned forms
   (ấ ầ ẩ ẫ ậ) at half their combined count, a conservative guess at the level-tone share.
3. Word boundaries: an n-gram's occurrences not followed by a letter are
   count(g) - sum over c of count(g c); likewise at the word start. That gives boundary
   n-grams "^ab", "ab$" and whole short words "^ab$" with exact counts, so the model
   knows how words of each language begin and end.
4. "vi-ascii": Vietnamese with the diacritics stripped (news and chat often write it so);
   stripping each n-gram and adding up the counts is exact.
5. Interpolated Witten-Bell probabilities for orders 1-5 over "^word$", stored in ARPA
   style (log P for kept n-grams, back-off weight for kept histories), quantised to 0.1
   nat, n-grams rarer than `--min-share` of the language's letters dropped.
"""
import argparse
import collections
import math
import os
import struct
import sys
import unicodedata
import zlib

LANGS = [("english", "en"), ("french", "fr"), ("german", "de"), ("spanish", "es"),
         ("portuguese", "pt"), ("indonesian", "id"), ("malay", "ms"), ("tagalog", "tl"),
         ("vietnamese", "vi")]
V_UNIGRAM = 300       # assumed symbol inventory for add-half smoothing of unigrams
MAX_Q = 255


def load_counts(path):
    cond = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            k, v = line.rstrip("\n").split("\t")
            cond[k] = float(v)
    joint = {}
    for k in sorted(cond, key=len):
        joint[k] = cond[k] if len(k) == 1 else joint[k[:-1]] + cond[k]
    lo = min(joint.values())
    for smallest in (1, 2, 3, 4, 5):
        total = smallest / math.exp(lo)
        counts = {k: math.exp(v) * total for k, v in joint.items()}
        if all(abs(c - round(c)) < 0.02 for c in counts.values()):
            return {k: int(round(c)) for k, c in counts.items()}
    sys.exit(f"{path}: counts do not come back as integers")


def add_plain_a_circumflex(counts):
    toned = set("ấầẩẫậ")
    extra = collections.Counter()
    for k, v in counts.items():
        if sum(ch in toned for ch in k) == 1:
            extra["".join("â" if ch in toned else ch for ch in k)] += v
    out = collections.Counter(counts)
    for k, v in extra.items():
        out[k] += max(1, v // 2)
    return dict(out)


def with_boundaries(counts):
    right = collections.Counter()   # occurrences followed by a letter
    left = collections.Counter()    # occurrences preceded by a letter
    both = collections.Counter()
    for k, v in counts.items():
        if len(k) >= 2:
            right[k[:-1]] += v
            left[k[1:]] += v
        if len(k) >= 3:
            both[k[1:-1]] += v
    out = collections.Counter()
    for k, v in counts.items():
        out[k] += v
        if len(k) <= 4:
            out["^" + k] += v - left[k]
            out[k + "$"] += v - right[k]
        if len(k) <= 3:
            out["^" + k + "$"] += v - left[k] - right[k] + both[k]
    # "$" as a unigram: every word ends once.
    out["$"] = sum(v for k, v in out.items() if len(k) == 2 and k.endswith("$"))
    return {k: v for k, v in out.items() if v > 0}


def strip_marks(s):
    s = s.replace("đ", "d")
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)))


def ascii_variant(counts):
    out = collections.Counter()
    for k, v in counts.items():
        out[strip_marks(k)] += v
    return dict(out)


def witten_bell(counts, min_count):
    """ARPA-style tables: {ngram: (log p, back-off or None)} for kept n-grams."""
    total = collections.Counter()
    types = collections.Counter()
    for k, v in counts.items():
        if len(k) == 1:
            continue  # unigrams are add-half smoothed, not interpolated
        total[k[:-1]] += v
        types[k[:-1]] += 1
    n1 = sum(v for k, v in counts.items() if len(k) == 1)
    uni_den = n1 + 0.5 * V_UNIGRAM
    memo = {}

    def prob(h, c):
        key = (h, c)
        if key in memo:
            return memo[key]
        if h == "" or h == "^":
            lower = (counts.get(c, 0) + 0.5) / uni_den if h == "" else prob("", c)
            if h == "":
                memo[key] = lower
                return lower
        else:
            lower = prob(h[1:], c)
        t = total.get(h, 0)
        if t == 0:
            p = lower
        else:
            n = types[h]
            p = (counts.get(h + c, 0) + n * lower) / (t + n)
        memo[key] = p
        return p

    table = {}
    for k, v in counts.items():
        if len(k) > 1 and v < min_count:
            continue
        if len(k) == 1:
            lp = math.log(prob("", k))
        else:
            lp = math.log(prob(k[:-1], k[-1]))
        bow = None
        if total.get(k, 0) > 0:
            bow = math.log(types[k] / (total[k] + types[k]))
        table[k] = (lp, bow)
    # "^" is never predicted, but it is the history of every word's first letter.
    table["^"] = (0.0, math.log(types["^"] / (total["^"] + types["^"])))
    unk = math.log(0.5 / uni_den)
    return table, unk


def q(x):
    return min(MAX_Q, max(0, int(round(-x * 10))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tsv_dir")
    ap.add_argument("out")
    ap.add_argument("--min-share", type=float, default=2e-7,
                    help="drop n-grams rarer than this share of the language's letters")
    ap.add_argument("--min-count", type=int, default=3)
    a = ap.parse_args()

    models = []
    for name, code in LANGS:
        counts = load_counts(os.path.join(a.tsv_dir, f"{name}.tsv"))
        if code == "vi":
            counts = add_plain_a_circumflex(counts)
        letters = sum(v for k, v in counts.items() if len(k) == 1)
        b = with_boundaries(counts)
        threshold = max(a.min_count, int(letters * a.min_share))
        models.append((code, b, threshold))
        if code == "vi":
            models.append(("vi-ascii", ascii_variant(b), threshold))

    names, tables, unks = [], [], []
    for code, b, threshold in models:
        table, unk = witten_bell(b, threshold)
        names.append(code)
        tables.append(table)
        unks.append(unk)
        print(f"{code}: {len(table)} n-grams kept (min count {threshold})", file=sys.stderr)

    keys = sorted(set().union(*[t.keys() for t in tables]), key=lambda s: s.encode("utf-8"))
    out = bytearray(b"QLM1")
    out += struct.pack("<B", len(names))
    for n, u in zip(names, unks):
        nb = n.encode()
        out += struct.pack("<B", len(nb)) + nb + struct.pack("<f", u)
    out += struct.pack("<I", len(keys))
    prev = b""
    entries = 0
    for k in keys:
        kb = k.encode("utf-8")
        shared = 0
        while shared < min(len(prev), len(kb), 255) and prev[shared] == kb[shared]:
            shared += 1
        suffix = kb[shared:]
        out += struct.pack("<BB", shared, len(suffix)) + suffix
        row = [(i, t[k]) for i, t in enumerate(tables) if k in t]
        out += struct.pack("<B", len(row))
        for i, (lp, bow) in row:
            out += struct.pack("<BBB", i, q(lp), 0 if bow is None else q(bow))
        entries += len(row)
        prev = kb
    packed = zlib.compress(bytes(out), 9)
    with open(a.out, "wb") as f:
        f.write(packed)
    print(f"{len(keys)} keys, {entries} entries, {len(out)} bytes raw, {len(packed)} packed",
          file=sys.stderr)


if __name__ == "__main__":
    main()
