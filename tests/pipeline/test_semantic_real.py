"""Semantic search on a TF-IDF build of a slice of the real listing (real_speech_build): a query
naming a task and a language finds models of that task and language, results are distinct models,
ties go by popularity, a query that shares no word with the build says so (exit 2), a weak best
match is called weak; and the lexicon the search matches words with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.build_format import TIE_DECIMALS, WEAK_MATCH, SimilaritySearch, resolve_build
from pipeline.errors import NoSharedWordsError
from pipeline.lexicon import MAX_QUERY_TERMS, Lexicon
from pipeline.similar import similar_models

REPO = Path(__file__).resolve().parents[2]
ASR = "automatic-speech-recognition"
QUERY = "automatic-speech-recognition whisper japanese"


def japanese(hits: pd.DataFrame) -> list[bool]:
    """Whether each model is tagged Japanese or says so in its id."""
    return [
        "ja" in list(languages) or "japanese" in model_id.lower()
        for model_id, languages in zip(hits.index, hits["languages"])
    ]


def hfmap_similar(build: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hfmap", "similar", "--build", str(build), *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


@pytest.fixture(scope="module")
def models(real_speech_build) -> pd.DataFrame:
    """The slice build's models by id: task, languages, downloads, likes."""
    columns = ["model_id", "pipeline_tag", "languages", "downloads", "likes"]
    table = pd.read_parquet(resolve_build(real_speech_build) / "models.parquet", columns=columns)
    return table.set_index("model_id")


def test_the_command_finds_whisper_and_japanese_speech_recognition(real_speech_build, models):
    """The issue's query: ten distinct speech recognition models, each Japanese, Whisper models
    and models made for Japanese among them (plain TF-IDF found Whisper models of any language,
    before that one model eight times at 0.000)."""
    result = hfmap_similar(real_speech_build, "--text", QUERY, "-k", "10")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    ids = [line[1] for line in lines]
    assert len(ids) == len(set(ids)) == 10
    hits = models.loc[ids]
    assert (hits["pipeline_tag"] == ASR).all() and all(japanese(hits))
    assert sum("whisper" in model_id.lower() for model_id in ids) >= 5
    japanese_only = [m for m, langs in zip(ids, hits["languages"]) if list(langs) == ["ja"]]
    assert japanese_only  # e.g. Nikolajvestergaard/Japanese_Fine_Tuned_Whisper_Model
    scores = [float(line[0]) for line in lines]
    assert scores == sorted(scores, reverse=True) and scores[0] >= WEAK_MATCH
    assert "weak" not in result.stdout


def test_a_query_sharing_no_word_with_the_build_is_a_user_mistake(real_speech_build):
    result = hfmap_similar(real_speech_build, "--text", "qzxv wbbq")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("hfmap: No word of 'qzxv wbbq' occurs in this build's models")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_language_and_a_task_in_words_find_that_task_in_that_language(real_speech_build, models):
    """The language by name and the task by its words: "ja" is the tag, the pipeline tag one
    token."""
    result = similar_models(real_speech_build, "japanese speech recognition", k=10, free_text=True)
    hits = models.loc[result["model_id"]]
    assert (hits["pipeline_tag"] == ASR).all() and all(japanese(hits))


def test_ties_go_to_the_most_downloaded_then_liked(real_speech_build, models):
    """ "llama": models whose text is little but llama score as high as Meta's, so the hits are
    ranked by popularity among equal scores, each model once."""
    result = similar_models(real_speech_build, "llama", k=25, free_text=True)
    assert result["model_id"].is_unique and len(result) == 25
    hits = models.loc[result["model_id"]].assign(
        score=result["similarity"].round(TIE_DECIMALS).values
    )
    assert hits["score"].is_monotonic_decreasing
    for _, tied in hits.groupby("score", sort=False):
        order = list(zip(tied["downloads"], tied["likes"]))
        assert order == sorted(order, reverse=True)
    named = models.loc[[m for m in models.index if "llama" in m.lower()], "downloads"]
    assert hits["downloads"].iloc[0] >= named.max()


def test_a_weak_best_match_is_called_weak(real_speech_build):
    """No model of the slice carries "forecast": the one weather model is a weak match, and no
    model that shares nothing with the query is listed."""
    result = hfmap_similar(real_speech_build, "--text", "weather forecast", "-k", "5")
    assert result.returncode == 0, result.stderr
    *hits, note = result.stdout.strip().splitlines()
    assert len(hits) >= 1 and all(0 < float(hit.split()[0]) < WEAK_MATCH for hit in hits)
    assert note.startswith("The best match is weak")


def test_a_word_outside_the_embedding_still_finds_its_model_once(real_speech_build):
    """A word of a single model's id is no TF-IDF term (a term is in two texts): the text's vector
    is zero, the model is found by its word and listed once, nothing else with it."""
    search = SimilaritySearch(resolve_build(real_speech_build))
    word = "nikolajvestergaard"
    assert not np.any(search.embedder.transform([word])[0])
    rows, scores = search.near_text(word, k=10)
    assert len(rows) == 1 and scores[0] == pytest.approx(1.0)
    with pytest.raises(NoSharedWordsError):
        search.near_text("nikolajvestergaardx", k=10)


def test_the_embedding_counts_as_much_as_it_keeps_of_the_query(real_speech_build):
    """TF-IDF's SVD keeps words many models share and drops rare ones: the query's cosine weighs
    by the share of its TF-IDF weights the dimensions keep."""
    embedder = SimilaritySearch(resolve_build(real_speech_build)).embedder
    common, rare, unknown = embedder.kept(["llama", "japanese speech recognition", "qzxv"])
    assert common > 0.5 > rare > 0 and unknown == 0


# ---------------------------------------------------------------- the lexicon


@pytest.fixture
def lexicon() -> Lexicon:
    ids = ["kotoba-tech/kotoba-whisper-v1.0", "openai/whisper-small", "org/bert-ja", "x/TinyModel"]
    tags = [
        ["whisper", "automatic-speech-recognition", "ja", "license:mit", "base_model:openai/x"],
        ["whisper", "automatic-speech-recognition", "en", "ja", "region:us"],
        ["bert", "fill-mask", "ja", "dataset:wikipedia"],
        None,
    ]
    return Lexicon(pa.array(ids), pa.array(tags, pa.list_(pa.string())))


def test_models_carry_their_ids_tags_tag_words_and_language_names(lexicon):
    def carriers(word):
        return np.flatnonzero(lexicon.carriers(word)).tolist()

    assert carriers("japanese") == carriers("ja") == [0, 1, 2]
    assert carriers("english") == [1]
    assert carriers(ASR) == carriers("speech") == carriers("recognition") == [0, 1]
    assert carriers("kotoba") == [0] and carriers("tinymodel") == [3]
    assert carriers("mit") == [0] and carriers("wikipedia") == [2]
    assert carriers("openai") == [1] and carriers("us") == []  # bookkeeping tags give no word
    assert carriers("license") == carriers("base_model") == []


def test_a_query_is_weighted_by_rarity_and_its_unknown_words_weigh_most(lexicon):
    assert lexicon.terms("The Whisper models for speech-recognition in Japanese") == [
        "whisper",
        "models",
        "speech",
        "recognition",
        "japanese",
    ]

    def weight(carriers):  # smoothed idf over the lexicon's 4 models
        return np.log(5 / (1 + carriers)) + 1

    share = lexicon.share("japanese speech recognition")
    japanese_alone = weight(3) / (weight(3) + 2 * weight(2))  # the commonest word weighs least
    np.testing.assert_allclose(share, [1, 1, japanese_alone, 0], rtol=1e-6)
    whisper = lexicon.share("whisper zzyzx")
    assert whisper[0] == whisper[1] < 0.5 and whisper[2] == whisper[3] == 0
    assert lexicon.share("zzyzx qqq") is None
    words = [f"w{number}" for number in range(1000)]
    assert lexicon.terms(" ".join(words)) == words[:MAX_QUERY_TERMS]  # a pasted page is cut
