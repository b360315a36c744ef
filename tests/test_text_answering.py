"""Pure text functions of the answering side: no model, no index."""

from __future__ import annotations

import pytest

from qa.conversation import Message, parse_history, resolve
from qa.errors import QuestionError
from qa.lexical import BM25, tokens
from qa.reader import named_terms
from qa.settings import Settings
from qa.spans import AMOUNT, DATE, LOCATION, PERSON, QUOTE, SENTENCE, Span, question_type, short_answer, tail_key


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did Demna apologize?", DATE),
        ("What year did the scandal start?", DATE),
        ("How much was the lawsuit for?", AMOUNT),
        ("How many children does she have?", AMOUNT),
        ("What is the price of the bag?", AMOUNT),
        ("Who photographed her?", PERSON),
        ("Which photographer took the portrait?", PERSON),
        ("What did Kanye West say about Balenciaga?", QUOTE),
        ("What was Kanye West wearing in his follow-up post?", SENTENCE),  # "post" the noun, not the verb
        ("What was the name of the count of Apulia?", PERSON),
        ("Where was Kim photographed?", LOCATION),
        ("Why did Balenciaga cut ties with West?", SENTENCE),
    ],
)
def test_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("When did he apologize?", "“I apologize,” he said in a statement on December 2, 2022.", "December 2, 2022"),
        (
            "How much was the lawsuit?",
            "It filed a $25 million lawsuit against set designer Nicholas Des Jardi.",
            "$25 million",
        ),
        (
            "Who photographed the portrait?",
            "It was clicked by documentary photographer Platon, as per the site.",
            "Platon",
        ),
        ("How many kids does she share with West?", "She shares four kids with her ex-husband, Kanye West.", "four"),
        ("Who owns the brand?", "The Kering-owned French fashion brand condemned it.", "Kering"),
        ("Who is the CEO?", "President and CEO Cedric Charbit later said so.", "Cedric Charbit"),
        ("What did West write?", "“I stand by Balenciaga,” the rapper wrote.", "I stand by Balenciaga,"),
        (
            "What did she say?",
            "“As a mother of four, I have been shaken by the images.",
            "As a mother of four, I have been shaken by the images.",
        ),
        ("Where was she photographed?", "Kim Kardashian on November 6, 2023, in New York City.", "New York City"),
        # an age: the newspaper apposition after the asked name, not another child's, not a count
        (
            "How old is her daughter North?",
            "She has four kids, North, 10, Saint, 8, and Chicago, 6, with West.",
            "10",
        ),
        ("How old is the designer?", "The 42-year-old designer has three kids.", "42"),
        ("Which company owns the label?", "Its owner Demna is owning up to it, said the Kering-owned label.", "Kering"),
    ],
)
def test_short_answer_is_a_verbatim_span(question: str, sentence: str, expected: str) -> None:
    span = short_answer(sentence, question_type(question), question)
    assert span is not None
    assert sentence[span.start : span.end] == expected


def test_no_span_when_the_sentence_lacks_the_asked_type() -> None:
    assert short_answer("She was shaken by the images.", DATE, "When was she shaken?") is None
    # A count is no answer to a question about money.
    assert short_answer("She posted three stories.", AMOUNT, "How much was she paid?") is None
    # A year is not an amount.
    assert short_answer("It happened in 2022.", AMOUNT, "How many were there?") is None
    # "On what date" wants a day: a month is no answer to it.
    assert short_answer("It faced backlash in November 2022.", DATE, "On what date did it apologize?") is None
    # Nor is the day of a date, nor a count an age.
    assert short_answer("Kim Kardashian on November 6, 2023, in New York City.", AMOUNT, "How old is Kim?") is None
    assert short_answer("She shares four kids with West.", AMOUNT, "How old is she?") is None
    # "How long": a count of things is no duration.
    assert short_answer("It had 3 kids.", AMOUNT, "How long did it last?") is None
    # "In what month" wants a month; a place is where something happens "in" or "at".
    assert short_answer("It pulled the ads in 2022.", DATE, "In what month did it pull the ads?") is None
    assert short_answer("The shoot was done by Gabriele Galimberti.", LOCATION, "Where was it shot?") is None
    # A bare year names nothing.
    assert short_answer("It happened in 2022.", LOCATION, "In which city was he seen?") is None
    # "associated with" is no feeling.
    assert short_answer("She has long been associated with the brand.", SENTENCE, "How did she feel?") == Span(
        0, 44, 1.0
    )


def test_follow_up_folds_in_the_previous_exchange() -> None:
    history = [
        Message("user", "Who is Balenciaga's creative director?"),
        Message("assistant", "Demna [1]\n\nSources: ..."),
    ]
    r = resolve("How did he apologize?", history)
    assert r.is_follow_up
    assert "Demna" in r.search_text and "creative director" in r.context
    assert "[1]" not in r.search_text and "Sources" not in r.search_text
    # An answer that is more than a name is searched together with the question it answered.
    history = [Message("user", "What did Balenciaga file against the set designer?"), Message("assistant", "a lawsuit")]
    r = resolve("How much was it for?", history)
    assert "set designer" in r.search_text and "a lawsuit" in r.search_text


def test_follow_up_pronoun_for_a_named_answer_searches_that_name() -> None:
    # "it" is Newyork Verified; the photographer and the ad of the earlier question are not what is asked.
    history = [
        Message("user", "Which outlet did photographer Gabriele Galimberti speak to about the teddy bear ad?"),
        Message("assistant", "Newyork Verified [1]."),
    ]
    r = resolve("How did it try to reach Kardashian's representative?", history)
    assert r.search_text == "How did it try to reach Kardashian's representative? Newyork Verified"
    assert "Galimberti" in r.context


def test_follow_up_uses_the_latest_topic_not_an_older_one() -> None:
    history = [
        Message("user", "How much was the lawsuit against the set designer?"),
        Message("assistant", "$25 million [1]"),
        Message("user", "Who is Balenciaga's creative director?"),
        Message("assistant", "Demna [1]"),
    ]
    r = resolve("How did he apologize?", history)
    assert "Demna" in r.search_text and "lawsuit" not in r.search_text
    # A chain of follow-ups keeps the topic they all lean on.
    chain = [*history[2:], Message("user", "How did he apologize?"), Message("assistant", "posted on his Instagram")]
    r2 = resolve("When?", chain)
    assert "creative director" in r2.search_text and "Instagram" in r2.search_text


def test_self_contained_question_is_left_alone_even_with_history() -> None:
    history = [Message("user", "Who owns Balenciaga?"), Message("assistant", "Kering [1]")]
    r = resolve("When did Balenciaga cut ties with Kanye West?", history)
    assert not r.is_follow_up and r.search_text == "When did Balenciaga cut ties with Kanye West?"


@pytest.mark.parametrize(
    "question",
    [
        "Who owns Balenciaga?",  # short, but it names what it asks about
        "What did Kim Kardashian say about her relationship with Balenciaga?",  # "her" is Kim, named first
        "When did Balenciaga announce Kim Kardashian as its brand ambassador?",
        "What did Ye tweet about cancel culture when he was defending Balenciaga?",
        "What did Kardashian tell Martinez is impossible in situations like this?",
    ],
)
def test_a_question_whose_pronouns_refer_to_its_own_names_stands_alone_in_a_chat(question: str) -> None:
    history = [Message("user", "Who is Balenciaga's creative director?"), Message("assistant", "Demna [1]")]
    r = resolve(question, history)
    assert not r.is_follow_up and r.search_text == question


@pytest.mark.parametrize(
    "question", ["How did he apologize?", "When?", "Who photographed her for it?", "And what about Kim?"]
)
def test_pronouns_with_nothing_named_before_them_and_fragments_still_follow_up(question: str) -> None:
    history = [Message("user", "Who is Balenciaga's creative director?"), Message("assistant", "Demna [1]")]
    assert resolve(question, history).is_follow_up


def test_unresolvable_pronoun_without_history_is_flagged() -> None:
    assert resolve("How did he apologize?", []).unresolved_reference == "he"
    assert resolve("When did Demna apologize?", []).unresolved_reference is None
    assert resolve("What did Ye tweet when he was defending Balenciaga?", []).unresolved_reference is None


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ("not a list", "list"),
        ([{"role": "user"}], "content"),
        ([{"role": "wizard", "content": "x"}], "role"),
        (["hello"], "object"),
        ([{"role": "user", "content": "x"}] * 3, "limit"),
    ],
)
def test_bad_history_is_a_clear_error(history: object, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        parse_history(history, max_messages=2)  # type: ignore[arg-type]


def test_bm25_ranks_rare_exact_words_first() -> None:
    bm25 = BM25(["the brand sued the designer", "Cedric Charbit is the chief executive", "the brand and the star"])
    scores = bm25.scores("Who is Charbit?")
    assert scores.argmax() == 1
    assert bm25.normalised_scores("Charbit")[1] > 0.5 > bm25.normalised_scores("Charbit")[0]


def test_tokens_stem_inflections_together() -> None:
    assert tokens("apologized")[0] == tokens("apology")[0] == tokens("apologizing")[0]
    assert "the" not in tokens("the brand")


def test_settings_read_env_and_flags_override() -> None:
    s = Settings.from_env(env={"QA_TOP_K": "7", "QA_PORT": "9001", "QA_AUTO_BUILD": "no"}, top_k=3)
    assert (s.top_k, s.port, s.auto_build) == (3, 9001, False)
    with pytest.raises(ValueError, match="QA_TOP_K"):
        Settings.from_env(env={"QA_TOP_K": "many"})
    with pytest.raises(ValueError, match="index_type"):
        Settings.from_env(env={"QA_INDEX_TYPE": "magic"})


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # why -> the affirmed reason clause
        (
            "Why was she quiet?",
            "“I was quiet, not because I was not outraged, but because I wanted to speak to their team.”",
            "because I wanted to speak to their team",
        ),
        (
            "Why did the brand cut ties with West?",
            "It cut ties with West over his antisemitic statements.",
            "over his antisemitic statements",
        ),
        # what is X's role -> the role after a copula
        (
            "What is Kim's role with the brand?",
            "Kim Kardashian is a brand ambassador for Balenciaga.",
            "brand ambassador",
        ),
        # a question ending on a verb or preposition -> the phrase that follows it
        ("What were the bears dressed in?", "It showed bears dressed in BDSM gear, which drew outrage.", "BDSM gear"),
        (
            "What did she say she appreciated about the brand?",
            "She said she “appreciated” the brand’s apology.",
            "the brand’s apology",
        ),
        ("What did she wear there?", "She went to the Met Gala wearing a black ensemble.", "a black ensemble"),
        # what did X do -> what follows X
        (
            "What did Balenciaga do with the ads?",
            "In November, Balenciaga pulled the ads from online.",
            "pulled the ads from online",
        ),
        # what did X say, without quote marks -> the reported clause
        (
            "What did he say about his involvement?",
            "At the time, photographer Gabriele Galimberti told Newyork Verified that he had minimal involvement in"
            " the ad.",
            "he had minimal involvement in the ad",
        ),
        # how did X describe herself -> the role she speaks as; describe anything else -> what X said of it
        (
            "How did she describe herself when she said she was shaken?",
            "“As a mother of four, I have been shaken by the disturbing images.",
            "a mother of four",
        ),
        (
            "How did the photographer describe his part in the ad?",
            "Galimberti told a reporter that he was simply asked to point and shoot.",
            "he was simply asked to point and shoot",
        ),
        # how did X feel -> the feeling words after a copula, quote marks kept balanced
        (
            "How did Kim feel about the images?",
            "Kardashian, who has long been associated with the brand, said that she was “disgusted” and “shaken”"
            " by the images.",
            "“disgusted” and “shaken”",
        ),
        # a lead-in ("According to one critic,") does not hide the question's shape; "looked like" is no liking
        (
            "According to one critic, what does Kim like?",
            "The bags looked like bondage gear, and one critic said she likes to be in drama.",
            "to be in drama",
        ),
        # "... in 2024?" does not end on a preposition: the role is still asked for
        (
            "What is Kim's role with the brand in 2024?",
            "Kim Kardashian is a brand ambassador for Balenciaga.",
            "brand ambassador",
        ),
        # what did X say about <topic>, from a long quote -> the clause about the topic
        (
            "What did Kim say about her relationship with the label?",
            "“As for my future with Balenciaga, I am currently re-evaluating my relationship with the brand, basing"
            " it off their willingness to accept accountability.”",
            "I am currently re-evaluating my relationship with the brand",
        ),
        (
            "What did Kim say about her future with the label?",
            "“As for my future with Balenciaga, I am currently re-evaluating my relationship with the brand, basing"
            " it off their willingness to accept accountability.”",
            "I am currently re-evaluating my relationship with the brand",
        ),
        # several quotes: the one a speech verb introduces is the statement, a later one qualifies it
        (
            "What did Kim tell Martinez is impossible?",
            "She told Martinez that “you definitely can’t win” in these situations “unless they heard what they"
            " wanted to hear.”",
            "you definitely can’t win",
        ),
        # how did X <verb> -> the means, or the clause that carries the verb
        (
            "How did Balenciaga announce Kim as its ambassador?",
            "On Monday, Balenciaga announced Kim Kardashian as their new brand ambassador via three Instagram Stories.",
            "via three Instagram Stories",
        ),
        (
            "How did he apologize?",
            "Days later, Demna, the brand’s creative director, posted on his Instagram, personally apologizing for"
            " the images.",
            "posted on his Instagram, personally apologizing for the images",
        ),
        (
            "How did the brand apologize?",
            "The brand apologized by pulling the ads from online.",
            "by pulling the ads from online",
        ),
        # what kind of X -> X with the words that say which; which X -> a name when there is one
        (
            "What kind of photographer is he?",
            "It was clicked by documentary photographer Platon.",
            "documentary photographer",
        ),
        ("Which photographer clicked the portrait?", "It was clicked by documentary photographer Platon.", "Platon"),
        (
            "Which earlier campaign did Kim play a role in?",
            "She also played a role in the winter 2022 campaign of the brand.",
            "winter 2022 campaign",
        ),
        # a question led by a preposition keeps its shape
        (
            "Through what did Balenciaga post an apology?",
            "Balenciaga posted an apology via an Instagram story as soon as the ad went viral.",
            "via an Instagram story",
        ),
        ("For how long has she worn the brand?", "“For several years now, I have worn the brand.", "several years"),
        (
            "How did it try to reach her representative?",
            "The site reached out to her representative via email.",
            "via email",
        ),
        (
            "What does Kim always want to do?",
            "“I just always want to do the right thing,” she said.",
            "the right thing",
        ),
        # a question that asks in place ends, in effect, before its "what"
        (
            "Turing machines are commonly employed to define what?",
            "Turing machines are used to define complexity classes, among other things.",
            "complexity classes",
        ),
        (
            "A function problem is an example of what?",
            "So a function problem is an example of a computational problem, where output is expected.",
            "a computational problem",
        ),
        # "<preposition> which X": the name after the same preposition; a handle is a name
        (
            "Under which Instagram account's post did a user comment?",
            "In this regard, an Instagram user commented under @theshaderoom’s post on the same.",
            "@theshaderoom",
        ),
        # do-support: "what does <noun phrase> <verb>?" ends on its verb
        (
            "What does the historic fashion house embrace?",
            "“This historic fashion house embraces modernity, craftsmanship and takes an innovative approach.",
            "modernity",
        ),
        (
            "What did she do with the related pictures?",
            "Since then, she has deleted all the pictures.",
            "deleted all the pictures",
        ),
        (
            "What kind of imagery were the models placed next to?",
            "The campaign placed child models alongside fetish imagery.",
            "fetish imagery",
        ),
        (
            "How did it try to reach her representative?",
            "Newyork Verified has contacted a representative of Kardashian via email.",
            "via email",
        ),
        # what did X write about <topic>: the topic's words are no verb to answer after
        (
            "What did the rapper write about ending trafficking?",
            "Ending trafficking doesn’t start or end with a fashion campaign,” the rapper wrote.",
            "Ending trafficking doesn’t start or end with a fashion campaign,",
        ),
        # where ... from? with no place name: the words after the verb and preposition
        (
            "Where did it say it had removed the campaign from?",
            "We have immediately removed the campaign from all platforms.",
            "all platforms",
        ),
        # how long / how much time -> a duration, in words or figures
        ("How long did she keep quiet?", "“I have been quiet for the past few days,” she said.", "the past few days"),
        ("How much time did she want to take?", "She said she wanted to take a minute to research.", "a minute"),
        # names of -> the list
        (
            "What are the names of her children?",
            "They are, North, Saint, Chicago, and Psalm.",
            "North, Saint, Chicago, and Psalm",
        ),
    ],
)
def test_phrase_answers_are_verbatim_spans(question: str, sentence: str, expected: str) -> None:
    span = short_answer(sentence, question_type(question), question)
    assert span is not None
    assert sentence[span.start : span.end] == expected


def test_question_ending_on_its_verb_wants_that_verbs_object_only() -> None:
    # "built on?" asks what it is built on: a role elsewhere in a sentence is no answer to it.
    sentence = "Kim Kardashian is a brand ambassador for Balenciaga."
    question = "What is her relationship with Balenciaga built on?"
    assert short_answer(sentence, question_type(question), question) == Span(0, len(sentence), 1.0)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("According to one critic, when did she post it?", DATE),
        ("In 2022, what did Kim say about the brand?", QUOTE),
        ("Back then, who was the brand's creative director?", PERSON),
    ],
)
def test_lead_in_does_not_change_the_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_noun_after_a_preposition_is_not_taken_for_a_verb() -> None:
    assert tail_key("What does the historic fashion house embrace?") == ("embrac",)
    assert tail_key("What did the photographer say about his involvement in the teddy bear ad?") is None


def test_plural_noun_at_the_end_is_not_taken_for_a_verb() -> None:
    sentence = "She said she was shaken by the images and that she was re-evaluating the relationship."
    question = "What was her view of the brand's images?"
    span = short_answer(sentence, question_type(question), question)
    assert span is not None and sentence[span.start : span.end] == sentence


@pytest.mark.parametrize(
    ("text", "whole", "expected"),
    [
        ("“I stand by Balenciaga,", False, "I stand by Balenciaga"),
        ("over his string of antisemitic statements.", False, "over his string of antisemitic statements"),
        ("“We sincerely apologize for any offense.", True, "We sincerely apologize for any offense."),
        ("“”", False, "“”"),  # nothing left: keep the span rather than return an empty answer
        ("“disgusted” and “shaken”", False, "“disgusted” and “shaken”"),  # marks inside stay balanced
    ],
)
def test_answer_spans_lose_dangling_quote_marks_and_punctuation(text: str, whole: bool, expected: str) -> None:
    from qa.spans import trim_span

    s, e = trim_span(text, 0, len(text), whole)
    assert text[s:e] == expected


def test_names_in_a_question_are_grouped_so_one_word_of_a_name_will_do() -> None:
    # A passage saying "Kardashian" mentions "Kim Kardashian"; "North" is a name of its own; years are
    # checked against article dates instead.
    assert named_terms("In 2022, what did Kim Kardashian's daughter North say?") == [
        frozenset({"kim", "kardashian"}),
        frozenset({"north"}),
    ]
    assert named_terms("What did Taylor Swift say in 2022?") == [frozenset({"taylor", "swift"})]
