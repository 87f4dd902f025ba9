# ruff: noqa: E501  (the corpus is data: one article a line)
"""A made-up corpus for measuring disagreement detection: events reported by two or three
outlets that state one fact differently (a number, amount, share, date, place or name), and
events whose outlets agree, some in other words ("thirty" / "30", "Aug. 19" / "19 August",
"Lyon" / "Lyon, France", a hedged "about 300" / "310"), some giving different values that
answer different questions. Every name, place and figure is invented.

    events()  # -> [Event(question, articles, planted values or None, form), ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# (kind, question, sentence A, sentence B, filler, disagreeing values, agreeing values, form)
# {x}: the event's invented place name; {v}: the value
TOPICS = [
    ("number", "How many countries signed the {x} ocean accord?",
     "{v} countries signed the {x} ocean accord on Monday, officials said.",
     "Officials said {v} countries have signed the {x} ocean accord.",
     "The accord limits deep sea mining near {x} for ten years.",
     ("30", "31"), ("30", "thirty"), "spelled number"),
    ("number", "How many people were injured when the {x} footbridge collapsed?",
     "{v} people were injured when the {x} footbridge collapsed during the festival.",
     "The collapse of the {x} footbridge injured {v} people, the fire service said.",
     "Engineers will inspect every bridge in the {x} district.",
     ("12", "17"), ("12", "twelve"), "spelled number"),
    ("number", "How many workers walked out at the {x} tractor plant?",
     "About {v} workers walked out at the {x} tractor plant over pay.",
     "Union leaders said {v} workers walked out at the {x} tractor plant.",
     "Talks with the plant's owners are due to resume next week.",
     ("300", "900"), ("300", "310"), "hedged number"),
    ("number", "How many homes lost power in {x} after the storm?",
     "{v} homes lost power in {x} after the storm brought down lines.",
     "The storm left {v} homes in {x} without power, the utility said.",
     "Crews from three regions were sent to repair the lines.",
     ("1.2 million", "800,000"), ("1.2 million", "1,200,000"), "number with a scale word"),
    ("number", "How many runners finished the {x} marathon?",
     "{v} runners finished the {x} marathon despite the heat.",
     "Organisers said {v} runners finished the {x} marathon on Sunday.",
     "The winner crossed the line in just over two hours.",
     ("8,400", "9,100"), ("8,400", "8400"), "digit grouping"),
    ("number", "How many flights were cancelled at {x} airport?",
     "{v} flights were cancelled at {x} airport because of fog.",
     "Fog forced {x} airport to cancel {v} flights, the operator said.",
     "Passengers were offered hotel rooms for the night.",
     ("46", "64"), ("46", "forty-six"), "spelled number"),
    ("money", "How much is the {x} council budget?",
     "The {x} council approved a budget of ${v} million for next year.",
     "Next year's {x} council budget of ${v} million was approved on Tuesday.",
     "Schools will receive the largest share of the money.",
     ("12", "15"), ("12", "12.0"), "decimal form"),
    ("percent", "What was the turnout in the {x} referendum?",
     "Turnout in the {x} referendum was {v}, the election board said.",
     "The election board put turnout in the {x} referendum at {v}.",
     "Voters were asked whether to merge the two districts.",
     ("61%", "54%"), ("61%", "61 percent"), "percent sign or word"),
    ("date", "When will the {x} tunnel open?",
     "The new {x} tunnel will open on {v}, the transport office said.",
     "The transport office said the {x} tunnel will open on {v}.",
     "The tunnel cuts the trip across the valley by half an hour.",
     ("Aug. 19", "Aug. 26"), ("Aug. 19", "19 August"), "date order"),
    ("date", "When does the {x} film festival start?",
     "The {x} film festival starts on {v} with a new documentary.",
     "Organisers said the {x} film festival will start on {v}.",
     "More than forty films will be shown in the old harbour hall.",
     ("June 5", "June 12"), ("June 5", "5th June"), "date order and ordinal"),
    ("place", "Where will the {x} trade summit be held?",
     "The {x} trade summit will be held in {v} next month, diplomats said.",
     "Diplomats said the {x} trade summit would be held in {v} next month.",
     "Ministers from twenty states are expected to attend.",
     ("Lyon", "Marseille"), ("Lyon", "Lyon, France"), "place with its country"),
    ("place", "Where did the {x} cargo ship run aground?",
     "The {x} cargo ship ran aground near {v} early on Friday.",
     "Early on Friday the {x} cargo ship ran aground near {v}, coastguards said.",
     "No oil has leaked from the hull, the coastguard said.",
     ("Port Elwin", "Cape Varro"), ("Port Elwin", "Port Elwin"), "same words"),
    ("name", "Who won the {x} chess open?",
     "The {x} chess open was won by {v} after a tense final round.",
     "After a tense final round, the {x} chess open was won by {v}.",
     "The tournament drew players from eleven countries.",
     ("Ada Lind", "Bo Chen"), ("Ada Lind", "Grandmaster Ada Lind"), "name with a title"),
    ("name", "Who was named captain of the {x} rowing team?",
     "The {x} rowing team named {v} as its new captain.",
     "The {x} rowing team has named {v} captain for the season.",
     "The team will race on the river every weekend in spring.",
     ("Mira Holt", "Jon Serra"), ("Mira Holt", "Mira Holt"), "same words"),
    ("year", "When was the {x} lighthouse built?",
     "The {x} lighthouse was built in {v} and restored last year.",
     "Built in {v}, the {x} lighthouse was restored last year.",
     "Visitors can climb its 120 steps in summer.",
     ("1872", "1891"), ("1872", "1872"), "same value"),
]  # fmt: skip

# agreeing events whose articles give different values that answer different questions
OTHER_QUESTIONS = [
    ("How many countries signed the {x} fishing pact?",
     "30 countries signed the {x} fishing pact on Monday.",
     "12 countries refused to attend the {x} summit on whaling.",
     "The pact sets quotas for the northern waters."),
    ("How many people were rescued from the {x} flood?",
     "Rescue teams saved 40 people from the {x} flood on Sunday.",
     "The {x} flood damaged 300 houses and two schools.",
     "Rain is expected to ease by the weekend."),
    ("Where will the {x} jazz festival take place?",
     "The {x} jazz festival will take place in Lyon this summer.",
     "Last year's {x} jazz festival winner now lives in Marseille.",
     "Tickets go on sale in March."),
    ("When will the {x} museum reopen?",
     "The {x} museum will reopen on May 3 after repairs.",
     "The {x} museum's new wing was designed in 2019 and cost $4 million.",
     "Its collection includes ancient maps of the coast."),
    ("Who won the {x} cycling race?",
     "The {x} cycling race was won by Tove Brask on Saturday.",
     "Tove Brask thanked her coach, Lars Ekel, after the {x} cycling race.",
     "The route climbed three mountain passes."),
    ("How much did the {x} stadium cost?",
     "The {x} stadium cost $80 million to build.",
     "The {x} stadium holds 25,000 fans and opened in 2021.",
     "The club plays its first match there on Friday."),
]  # fmt: skip

_HEADS = "Tam Or Ves Hal Dun Rav Kes Mor Ul Pel Sar Car Els Fen Glen Har Kel Lun Moss Nor".split()
_TAILS = "sby len brook mere ford wick holm stead by ton".split()
PLACES = [h + t for t in _TAILS for h in _HEADS]  # 200 invented place names: "Tamsby", ...
OUTLETS = ("northgazette.example", "southherald.example", "eastpost.example")


@dataclass(frozen=True)
class Event:
    """One question, the articles about it, and what a detector should say."""

    question: str
    articles: tuple[dict[str, str], ...]  # JSONL records
    # the values of the two sides, as the articles say them (None: the sources agree)
    planted: tuple[tuple[str, ...], tuple[str, ...]] | None
    kind: str
    form: str  # how the agreeing sources differ ("spelled number"...), "" for disagreements


def _article(doc: str, x: str, title: str, text: str, day: date, outlet: str) -> dict[str, str]:
    return {
        "doc_id": doc,
        "title": title,
        "published": day.isoformat(),
        "source": outlet,
        "text": text,
    }


def events(start: date = date(2024, 3, 4)) -> list[Event]:
    """Per topic: two outlets disagreeing; three outlets, two agreeing (in other words) against
    one; two agreeing in other words; two agreeing word for word. Then the other-question ones.
    """
    out: list[Event] = []
    places = iter(PLACES)
    for t, (kind, q, a, b, fill, bad, good, form) in enumerate(TOPICS):
        variants = (  # (values said by outlets 1, 2[, 3], planted, form)
            ((bad[0], bad[1]), ((bad[0],), (bad[1],)), ""),
            ((good[0], good[1], bad[1]), (good, (bad[1],)), ""),
            ((good[0], good[1]), None, form),
            ((good[0], good[0]), None, "same words"),
        )
        for said, planted, how in variants:
            x = next(places)
            day = start + timedelta(days=3 * len(out))
            title = q.format(x=x).rstrip("?").replace("How many ", "").replace("Who ", "")
            arts = tuple(
                _article(
                    f"e{len(out)}{'abc'[k]}",
                    x,
                    f"{x}: {title}" if k == 0 else f"Update on {x} ({k})",
                    f"{(a if k % 2 == 0 else b).format(x=x, v=v)} {fill.format(x=x)}",
                    day + timedelta(days=k),
                    OUTLETS[(t + k) % 3],
                )
                for k, v in enumerate(said)
            )
            out.append(Event(q.format(x=x), arts, planted, kind, how))
    for q, a, b, fill in OTHER_QUESTIONS:
        x = next(places)
        day = start + timedelta(days=3 * len(out))
        n = len(out)
        arts = (
            _article(f"e{n}a", x, f"News from {x}", f"{a.format(x=x)} {fill}", day, OUTLETS[0]),
            _article(
                f"e{n}b",
                x,
                f"More from {x}",
                f"{b.format(x=x)} {fill}",
                day + timedelta(1),
                OUTLETS[1],
            ),
        )
        out.append(Event(q.format(x=x), arts, None, "other question", "answers another question"))
    return out


# Written after the detector was tuned on `events()`, and not tuned on: (question, [(date,
# text), ...], planted or None). Some are hard on purpose: a toll that "has risen to 21" (no
# noun counted), a place after "to", weekdays, two candidates' shares, two years' growth.
HELD_OUT = [
    ("How many people have died in the Aldmoor valley floods?",
     [("2024-05-02", "Floods in the Aldmoor valley have killed 14 people, regional officials said on Thursday. Hundreds of homes were evacuated as the river burst its banks."),
      ("2024-05-04", "The death toll from the Aldmoor valley floods has risen to 21, officials said on Saturday, as rescue teams reached cut-off villages.")],
     (("14",), ("21",))),
    ("Where is the Brenholt robotics fair?",
     [("2024-05-06", "The Brenholt robotics fair will open in Hamburg on Tuesday, drawing exhibitors from 30 countries."),
      ("2024-05-06", "Exhibitors from 30 countries are heading to Munich, where the Brenholt robotics fair opens on Tuesday.")],
     (("Hamburg",), ("Munich",))),
    ("How many passengers does the Quellport ferry carry?",
     [("2024-05-08", "Quellport's new ferry carries 400 passengers and 60 cars, the operator said."),
      ("2024-05-09", "The ferry, which can take 60 cars and four hundred passengers, enters service at Quellport in July.")],
     None),
    ("How many fans attended the Sorvik derby?",
     [("2024-05-10", "Nearly 2,000 fans attended the Sorvik derby on Saturday, a club record."),
      ("2024-05-11", "About 1,950 fans watched the Sorvik derby, the club said.")],
     None),
    ("When will the Varnholm bridge close?",
     [("2024-05-12", "The Varnholm bridge will close for repairs on March 3, the council said."),
      ("2024-05-13", "Repairs will shut the Varnholm bridge from March 10, the council said.")],
     (("March 3",), ("March 10",))),
    ("When is the Kervale election?",
     [("2024-05-14", "Polls in Kervale open at 7 a.m. on Sunday, Oct. 6, for the mayoral election."),
      ("2024-05-15", "Kervale votes on 6 October, with polls opening at seven in the morning.")],
     None),
    ("Who was elected mayor of Fernwick?",
     [("2024-05-16", "Lena Dorsch was elected mayor of Fernwick on Sunday with 52% of the vote."),
      ("2024-05-17", "Fernwick elected Tomas Reil as mayor on Sunday; he won 48% of the vote.")],
     (("Lena Dorsch",), ("Tomas Reil",))),
    ("How many homes does the Hollin dam supply?",
     [("2024-05-18", "The Hollin dam holds 3 billion litres and supplies 40,000 homes."),
      ("2024-05-19", "Built in 1961, the Hollin dam supplies water to 40,000 homes in the county.")],
     None),
    ("How much did the Marlow Arts Centre cost?",
     [("2024-05-20", "The Marlow Arts Centre cost £18 million to build, the council said."),
      ("2024-05-21", "The £25m Marlow Arts Centre opened its doors on Friday.")],
     (("£18 million",), ("£25m",))),
    ("What is the unemployment rate in Dalby?",
     [("2024-05-22", "Unemployment in Dalby fell to 4.5 per cent in June."),
      ("2024-05-23", "Dalby's jobless rate dropped to 4.5% in June, figures showed.")],
     None),
    ("How many climbers were rescued from Mount Arvel?",
     [("2024-05-24", "Six climbers were rescued from Mount Arvel on Saturday after a storm."),
      ("2024-05-25", "Rescuers brought eight climbers down from Mount Arvel on Saturday.")],
     (("Six",), ("eight",))),
    ("How many firefighters fought the Brisk Hill fire?",
     [("2024-05-26", "About 120 firefighters fought the Brisk Hill fire through the night."),
      ("2024-05-27", "The Brisk Hill fire was tackled by 120 firefighters, the fire service said.")],
     None),
    ("When was the Tolland library founded?",
     [("2024-05-28", "The Tolland library was founded in 1904 by a group of mill workers."),
      ("2024-05-29", "Founded in 1911, the Tolland library now lends 80,000 books a year.")],
     (("1904",), ("1911",))),
    ("When will Prime Minister Ana Vell visit Dorrow?",
     [("2024-05-30", "Prime Minister Ana Vell will visit Dorrow on Monday to open the new hospital."),
      ("2024-05-31", "Vell is due in Dorrow on Monday, her office said.")],
     None),
    ("Where were the missing hikers found?",
     [("2024-06-01", "The missing hikers from Tarnby were found alive in Glassby Forest on Sunday."),
      ("2024-06-02", "The missing hikers from Tarnby were found alive near Fellow Lake, police said.")],
     (("Glassby Forest",), ("Fellow Lake",))),
    ("How much did tourism in Penmar rise?",
     [("2024-06-03", "Tourism in Penmar rose 12% in 2022, the tourist board said."),
      ("2024-06-04", "Tourism in Penmar rose 8% in 2023 as hotel prices climbed.")],
     None),
    ("How long has the strike at Corbin port lasted?",
     [("2024-06-05", "The strike at Corbin port entered its third day on Wednesday."),
      ("2024-06-05", "Workers at Corbin port stayed out for a third day on Wednesday.")],
     None),
    ("How many people died in the Hesket bus crash?",
     [("2024-06-06", "At least 9 people died when a bus crashed near Hesket on Monday."),
      ("2024-06-07", "The number of people who died in the Hesket bus crash rose to 11."),
      ("2024-06-07", "Eleven people died in the Hesket bus crash, police said.")],
     None),
    ("When will trains between Ashby and Colne resume?",
     [("2024-06-08", "Trains between Ashby and Colne will resume on Monday, the operator said."),
      ("2024-06-09", "The operator said trains between Ashby and Colne would resume on Thursday.")],
     (("Monday",), ("Thursday",))),
    ("How many paintings did the Rudd family donate to the Haxby gallery?",
     [("2024-06-10", "The Rudd family donated 250 paintings to the Haxby gallery."),
      ("2024-06-11", "Some 250 works from the Rudd family collection are now at the Haxby gallery.")],
     None),
]  # fmt: skip


def held_out() -> list[Event]:
    """The held-out events, each article from another outlet."""
    out = []
    for k, (q, said, planted) in enumerate(HELD_OUT):
        arts = tuple(
            _article(f"h{k}{'abc'[i]}", "", f"Report {i + 1}", text, date.fromisoformat(d), OUTLETS[i])
            for i, (d, text) in enumerate(said)
        )  # fmt: skip
        out.append(Event(q, arts, planted, "held out", "" if planted else "held out"))
    return out
