"""datatrove's side of `compare.sh`: quality filters -> MinHash dedup -> tokenize -> Parquet.

    python pipeline.py INPUT_DIR WORK_DIR OUT_DIR TOKENIZER_JSON

INPUT_DIR holds the slice as JSONL shards (one per task, since datatrove shards by file);
each line has `id`, `text` and the corpus's `lang` label, which stands in for datatrove's
LanguageFilter (that one downloads a fastText model, and nothing here may download).
WORK_DIR must be empty or absent: datatrove skips tasks its logs say are done.
"""

import argparse
import os
import re

# Set before datatrove/tokenizers import anything: the tokenizer is a local file, never the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from datatrove.data import Document
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.tokens import DocumentTokenizer
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter
from datatrove.utils.word_tokenizers import WordTokenizer, load_word_tokenizer

TASKS = WORKERS = 2  # the machine has 2 cores; quire runs with --jobs 2


def quality_filters(lang: str) -> list[BaseFilter]:
    """The FineWeb filter recipe, with FineWeb-2-style changes where English rules break.

    English gets FineWeb's chain as published. Japanese and Vietnamese use datatrove's own
    word tokenizer for the language (spaCy + SudachiPy, spaCy + pyvi); Gopher's English stop
    words would reject every such document, so spaCy's lists for the language are used, and
    Japanese words (1-2 characters) would fail Gopher's 3-character mean, so that bound is off.
    C4's rules split lines on spaces and want ASCII sentence ends, so they run on English only.
    """
    if lang == "en":
        return [
            GopherRepetitionFilter(language="en"),
            GopherQualityFilter(language="en"),
            C4QualityFilter(filter_no_terminal_punct=False, language="en"),
            FineWebQualityFilter(language="en"),
        ]
    if lang == "ja":
        from spacy.lang.ja.stop_words import STOP_WORDS

        gopher = GopherQualityFilter(language="ja", min_avg_word_length=None, stop_words=list(STOP_WORDS))
    elif lang == "vi":
        from spacy.lang.vi.stop_words import STOP_WORDS

        # spaCy writes Vietnamese multi-syllable stop words with `_`; datatrove's words have spaces.
        gopher = GopherQualityFilter(language="vi", stop_words=[w.replace("_", " ") for w in STOP_WORDS])
    else:
        raise ValueError(f"no filter settings for language {lang!r}")
    return [GopherRepetitionFilter(language=lang), gopher, FineWebQualityFilter(language=lang)]


class PerLanguageQuality(BaseFilter):
    """Runs each document through the filter chain of its language (what a FineWeb-2 run gets
    by splitting the data per language after LanguageFilter); a drop reason names the language."""

    name = "per-language quality"

    def __init__(self, langs=("en", "ja", "vi")):
        super().__init__()
        self.chains = {lang: quality_filters(lang) for lang in langs}

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lang = doc.metadata.get("lang")
        for f in self.chains[lang]:
            # C4QualityFilter rewrites doc.text (drops lines), as it does in a plain chain.
            ok = f.filter(doc)
            if ok is not True:
                reason = ok[1] if isinstance(ok, tuple) else type(f).__name__
                return False, f"{lang}_{reason}"
        return True


class ScriptWords(WordTokenizer):
    """MinHash shingles need one word tokenizer for a mixed-language stream and get only the
    text: pick datatrove's Japanese tokenizer when the text has kana or kanji, else English's.
    Vietnamese is syllable-spaced, so whitespace-level words shingle it well enough."""

    CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

    def __init__(self):
        super().__init__("mixed")

    def _pick(self, text: str) -> WordTokenizer:
        return load_word_tokenizer("ja" if self.CJK.search(text[:2000]) else "en")

    def word_tokenize(self, text: str) -> list[str]:
        return self._pick(text).word_tokenize(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return self._pick(text).sent_tokenize(text)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return self._pick(text).span_tokenize(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input_dir")
    ap.add_argument("work_dir")
    ap.add_argument("out_dir")
    ap.add_argument("tokenizer")
    a = ap.parse_args()
    work, out = a.work_dir, a.out_dir

    # datatrove's defaults: 5-grams, 14 buckets x 8 hashes, 64-bit xxhash.
    minhash = MinhashConfig()

    # Stage 1: filter once, keep the survivors (stage 4 must re-read exactly the stream that
    # was signed) and sign them; this is how datatrove's FineWeb example chains the two.
    filter_and_sign = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(a.input_dir),
            PerLanguageQuality(),
            JsonlWriter(f"{work}/filtered"),
            MinhashDedupSignature(output_folder=f"{work}/signatures", config=minhash, language=ScriptWords()),
        ],
        tasks=TASKS,
        workers=WORKERS,
        logging_dir=f"{work}/logs/1-filter-sign",
    )
    buckets = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupBuckets(
                input_folder=f"{work}/signatures", output_folder=f"{work}/buckets", config=minhash
            )
        ],
        tasks=minhash.num_buckets,  # one task per bucket, as datatrove requires
        workers=WORKERS,
        logging_dir=f"{work}/logs/2-buckets",
        depends=filter_and_sign,
    )
    cluster = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids", config=minhash)
        ],
        tasks=1,  # datatrove's clustering is single-task by design
        logging_dir=f"{work}/logs/3-cluster",
        depends=buckets,
    )
    write = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(f"{work}/filtered"),
            MinhashDedupFilter(input_folder=f"{work}/remove_ids"),
            # zstd like quire's shards (datatrove's default is snappy).
            ParquetWriter(f"{out}/data", compression="zstd"),
            # Token ids go to datatrove's own .ds files, not the Parquet rows; no shuffle,
            # since quire does not shuffle either.
            DocumentTokenizer(
                output_folder=f"{out}/tokens",
                tokenizer_name_or_path=a.tokenizer,
                shuffle_documents=False,
            ),
        ],
        tasks=TASKS,
        workers=WORKERS,
        logging_dir=f"{work}/logs/4-dedup-write",
        depends=cluster,
    )
    write.run()


if __name__ == "__main__":
    main()
