"""Engine Messages (checklist/engine/message.py): the English string itself, translatable. No DB."""

import copy
import json
import pickle

from checklist.engine.i18n import AND, COMMA, SPACE, gettext_noop, sentences
from checklist.engine.message import Joined, Message, join


def test_a_message_is_its_english_text():
    m = Message("Platelets %(value)s: not above %(limit)s.", value="480 x10^9/L", limit="450 x10^9/L")
    assert m == "Platelets 480 x10^9/L: not above 450 x10^9/L."
    assert isinstance(m, str) and hash(m) == hash(str(m))
    assert m.msgid == "Platelets %(value)s: not above %(limit)s."
    assert m.params == {"value": "480 x10^9/L", "limit": "450 x10^9/L"}
    # JSON reads exactly the English string, as before Messages existed.
    assert json.dumps({"r": [m]}) == json.dumps({"r": ["Platelets 480 x10^9/L: not above 450 x10^9/L."]})


def test_without_params_a_percent_sign_is_literal():
    m = Message("HR 4.07 (95% CI 1.41-11.76)")
    assert m == "HR 4.07 (95% CI 1.41-11.76)" and m.params == {}


def test_nested_messages_and_joined_lists_keep_their_parts():
    serum = Message("the %(s)s cut-off", s=Message("serum"))
    which = join(AND, [serum, Message("the %(s)s cut-off", s="plasma")])
    assert which == "the serum cut-off and the plasma cut-off"
    assert isinstance(which, Joined) and which.sep is AND and len(which.items) == 2
    outer = Message("Below %(which)s.", which=which)
    assert outer == "Below the serum cut-off and the plasma cut-off."
    assert outer.params["which"] is which
    assert join(COMMA, ["a", "b", "c"]) == "a, b, c"


def test_pickle_and_deepcopy_keep_the_message():
    # The rule book is cached (and may be pickled by a shared cache): its texts stay Messages.
    m = Message("%(n)s met", n="2")
    j = join(AND, [m, Message("minor")])
    for copied in (pickle.loads(pickle.dumps(j)), copy.deepcopy(j)):
        assert copied == j and isinstance(copied, Joined)
        assert isinstance(copied.items[0], Message) and copied.items[0].params == {"n": "2"}
    assert pickle.loads(pickle.dumps(m)).msgid == "%(n)s met"


def test_sentences_join_as_a_space_would():
    a, b = Message("Met."), Message("Not assessed.")
    assert sentences([]) == "" and sentences([a]) is a
    both = sentences([a, b])
    assert both == "Met. Not assessed." and isinstance(both, Joined) and both.sep is SPACE
    assert " ".join([a, b]) == both  # what the code wrote before


def test_the_marker_changes_nothing():
    assert gettext_noop("Age over 50") == "Age over 50"


def test_string_operations_give_plain_english():
    # Concatenation or slicing makes a plain str: still correct English, just not translatable.
    m = Message("Met.")
    assert type(m + " ") is str and (m + " ") == "Met. "
