"""Data tables for the world generator's three themes: names, households, jobs, places, prices.

Each ``Theme`` is plain data; ``generate.py`` turns one into a ``WorldSpec``. Numbers follow
``shared/research/agentopia-paper.md``: work pays 100-500 a week, mostly at the low end with a
few elite jobs in the top third; non-work positions (students, retirees) pay an allowance of at
most 250; skill levels use the prompt's scale (0 untrained, 10 beginner, 30 some experience,
100 proficient, 300 master) and existing jobs ask for at most 150.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Role:
    """A position at a kind of workplace, before it is priced and sized for one world."""

    key: str
    title: str
    description: str
    income: tuple[int, int]  # weekly income range
    skills: dict[str, tuple[int, int]] = field(default_factory=dict)  # minimum skill ranges
    weight: float = 1.0  # how often residents of a fitting cohort hold it
    cohorts: tuple[str, ...] = ("worker",)
    ages: tuple[int, int] = (16, 120)  # typical ages of holders when the world is made
    work: bool = True
    min_age: int | None = 16
    max_age: int | None = None
    elite: bool = False  # a top job: always offered, rarely held at the start
    entry: bool = False  # an entry-level job: always offered with spare places
    gain: dict[str, int] | None = None  # weekly skill gain; default 2-4 per required skill
    nudges: dict[str, int] = field(default_factory=dict)  # shifts to holders' traits/talents
    dreams: tuple[str, ...] = ()  # motivations that suit holders
    intro: str = ""  # how an introduction says it, e.g. "is retired and a regular at the {org}"


@dataclass(frozen=True)
class Workplace:
    kind: str
    names: tuple[str, ...]  # one organisation per name; bigger towns open more
    roles: tuple[Role, ...]
    affordances: tuple[str, ...] = ("work",)
    size: int = 12  # holders per organisation before another one opens
    always: bool = False  # exists even when nobody works there yet


@dataclass(frozen=True)
class PublicPlace:
    key: str
    name: str
    kind: str
    affordances: tuple[str, ...]
    capacity: int  # at 100 residents; scaled with the population
    more: tuple[str, ...] = ()  # names for further places of this kind in bigger towns


@dataclass(frozen=True)
class Member:
    cohort: str
    ages: tuple[int, int, int]  # low, high, mode of a triangular distribution
    count: tuple[int, int] = (1, 1)
    relation: str = "adult"  # adult (the first is the head), partner, child, elder or mate (unrelated housemate)


@dataclass(frozen=True)
class Household:
    label: str  # which kind of home: decides how the home is named
    weight: float
    members: tuple[Member, ...]
    family: bool = True  # members share a surname and a name culture


@dataclass(frozen=True)
class NameCulture:
    surnames: tuple[str, ...]
    male: tuple[tuple[int, tuple[str, ...]], ...]  # (minimum age, first names) bands
    female: tuple[tuple[int, tuple[str, ...]], ...]
    surname_first: bool = False
    compound: bool = False  # first names are two syllables from the pools (Chinese given names)
    married_name: float = 0.7  # chance a partner takes the household's surname


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    setting: str
    cultures: tuple[NameCulture, ...]
    households: tuple[Household, ...]
    workplaces: tuple[Workplace, ...]
    public: tuple[PublicPlace, ...]
    events: tuple[tuple[str, str, str, str | None], ...]  # name, place key, description, skill
    prices: tuple[tuple[str, str, int], ...]  # name, category, price
    hobbies: dict[str, str]  # skill -> how a resident practises it (for introductions)
    values: tuple[str, ...]
    motivations: dict[str, tuple[str, ...]]  # by cohort, for residents whose role has no dreams
    deposits: dict[str, tuple[int, float, int, int]]  # cohort -> median, log-sigma, low, high
    extra_income: dict[str, tuple[float, int, int, int]]  # cohort -> chance, low, high, max age
    base_skills: dict[str, dict[str, tuple[int, int]]]  # cohort -> skills everyone of it has
    acquaintances: float  # target mean number of pre-existing acquaintances
    mix: tuple[float, float]  # chance a new acquaintance is a colleague, a neighbour (else anyone)
    styles: dict[str, tuple[str, ...]]  # what residents usually wear, by cohort ("" for anyone else)
    hair: tuple[str, ...]
    unemployed: float  # chance an adult has no position at the start
    nonbinary: float = 0.0
    classes_by_age: bool = False  # non-work positions split into same-age classes (schools)
    unemployed_phrase: str = "is between jobs"


def _bands(names: str, older: str = "", middle: str = "") -> tuple[tuple[int, tuple[str, ...]], ...]:
    bands = [(0, tuple(names.split()))]
    if middle:
        bands.append((35, tuple(middle.split())))
    if older:
        bands.append((55, tuple(older.split())))
    return tuple(bands)


def _culture(surnames: str, male: str, female: str, **kw) -> NameCulture:
    return NameCulture(tuple(surnames.split()), _bands(male), _bands(female), **kw)


# ---------------------------------------------------------------------------------------------
# apartment: a 1920s walk-up in Greenwich Village, 2020
# ---------------------------------------------------------------------------------------------

_APARTMENT_WORK = (
    Workplace("office", ("Whitcombe & Hale LLP", "Abernathy Stein Partners", "Delgado & Finch LLP", "Osei Marsh Legal"), (
        Role("associate", "Junior Associate", "Drafts contracts and motions late into the night for the partners.",
             (330, 400), {"law": (60, 90), "writing": (30, 50)}, 5, ages=(24, 40),
             nudges={"thinking": 12, "responsibility": 8, "intelligence": 10}, dreams=(
                 "To make partner before forty without losing the people who matter.",
                 "To pay off law-school debt and finally take the cases that feel right.")),
        Role("paralegal", "Paralegal", "Prepares case files, tracks deadlines and keeps the associates honest.",
             (200, 260), {"law": (25, 45), "writing": (20, 35)}, 2.5, ages=(21, 50), nudges={"judging": 10},
             dreams=("To save enough to go to law school at night.",)),
        Role("partner", "Senior Partner", "Runs the firm's biggest client relationships and signs off on everything.",
             (470, 500), {"law": (130, 150), "management": (60, 80)}, 0.5, ages=(42, 62), elite=True,
             nudges={"confidence": 15, "control": 12, "leadership": 12}, dreams=("To leave a firm that outlives its founders.",)),
    ), size=10),
    Workplace("office", ("Loopwise", "Brightgrid Labs", "Sparrow Analytics", "Tinpan Software"), (
        Role("engineer", "Software Engineer", "Builds and maintains the product's web services.",
             (330, 430), {"programming": (70, 110)}, 6, ages=(21, 45),
             nudges={"thinking": 12, "extraversion": -8, "intelligence": 10}, dreams=(
                 "To ship something millions of people use and still have weekends.",
                 "To start a company of my own before thirty-five.")),
        Role("designer", "UX Designer", "Interviews users and turns their frustrations into screens.",
             (280, 340), {"design": (60, 80)}, 2.5, ages=(22, 45), nudges={"creativity": 12, "empathy": 8}),
        Role("analyst", "Data Analyst", "Cleans data and tells the founders what the numbers really say.",
             (280, 340), {"programming": (40, 60), "finance": (30, 50)}, 2.5, ages=(22, 45)),
        Role("lead", "Lead Engineer", "Sets the technical direction and mentors the engineering team.",
             (450, 500), {"programming": (130, 150), "management": (50, 70)}, 0.6, ages=(28, 55), elite=True,
             nudges={"leadership": 10, "confidence": 10}),
    ), size=12),
    Workplace("hospital", ("St. Aldric's Hospital", "Lower West Side Medical Center"), (
        Role("nurse", "Registered Nurse", "Works twelve-hour ward shifts caring for patients and families.",
             (260, 330), {"nursing": (70, 100), "medicine": (30, 45)}, 5, ages=(23, 62),
             nudges={"empathy": 15, "responsibility": 12, "patience": 10}, dreams=(
                 "To become a nurse practitioner and run my own clinic.",
                 "To make sure nobody on my ward ever feels alone.")),
        Role("aide", "Patient Care Aide", "Helps patients wash, eat and move between wards.",
             (140, 180), {"nursing": (20, 30)}, 1.5, ages=(18, 62), entry=True, nudges={"empathy": 10}),
        Role("resident", "Resident Physician", "Works grueling rotations on the way to becoming a specialist.",
             (380, 450), {"medicine": (110, 140)}, 1, ages=(26, 36), elite=True,
             nudges={"intelligence": 12, "responsibility": 10}),
        Role("attending", "Attending Surgeon", "Operates, teaches residents and carries the final responsibility.",
             (480, 500), {"medicine": (140, 150), "management": (40, 60)}, 0.4, ages=(38, 62), elite=True,
             nudges={"confidence": 15, "control": 10}),
    ), size=15),
    Workplace("theatre", ("Minetta Lane Playhouse", "Perry Street Theatre Company", "The Jane Street Rep"), (
        Role("actor", "Ensemble Actor", "Rehearses by day, performs by night and auditions in between.",
             (130, 200), {"acting": (50, 80), "singing": (20, 40)}, 4.5, ages=(18, 45),
             nudges={"extraversion": 15, "creativity": 12, "beauty": 10}, dreams=(
                 "To land a lead role on Broadway and prove every doubter wrong.",
                 "To make a living from acting without waiting tables on the side.")),
        Role("stage-manager", "Stage Manager", "Calls the cues and keeps every performance on schedule.",
             (200, 260), {"management": (40, 60), "acting": (20, 30)}, 1, ages=(22, 55), nudges={"judging": 12}),
        Role("stagehand", "Stagehand", "Builds sets, moves scenery and fixes whatever breaks.",
             (150, 200), {"carpentry": (40, 60)}, 1, ages=(18, 55), entry=True),
        Role("lead-actor", "Leading Actor", "Carries the company's main productions.",
             (400, 480), {"acting": (120, 150), "singing": (60, 80)}, 0.3, ages=(22, 55), elite=True,
             nudges={"confidence": 15, "beauty": 12}),
    ), size=10),
    Workplace("restaurant", ("Trattoria Fiammetta", "The Blue Ox Diner", "Saffron House", "Little Seoul Kitchen", "Casa Colón"), (
        Role("waiter", "Waiter", "Takes orders, carries plates and keeps regulars happy.",
             (110, 160), {"customer service": (20, 40)}, 5, ages=(17, 45), entry=True,
             nudges={"extraversion": 8}, dreams=("To pay the rent while chasing a bigger dream.",)),
        Role("cook", "Line Cook", "Works the grill and the fryer through the dinner rush.",
             (150, 200), {"cooking": (40, 70)}, 3, ages=(18, 55)),
        Role("chef", "Head Chef", "Writes the menu and runs the kitchen.",
             (300, 380), {"cooking": (100, 130), "management": (30, 50)}, 0.8, ages=(28, 62),
             nudges={"control": 12}, dreams=("To open a restaurant under my own name.",)),
        Role("owner", "Restaurant Owner", "Owns the place, does the books and greets every regular by name.",
             (310, 420), {"cooking": (60, 80), "management": (60, 80), "finance": (20, 40)}, 0.6, ages=(35, 62),
             nudges={"responsibility": 12, "leadership": 8}, dreams=("To hand a thriving business to my children.",)),
    ), size=12),
    Workplace("music_venue", ("The Low Note", "Sixth Street Jazz Cellar", "The Blue Heron Club"), (
        Role("musician", "Session Musician", "Plays sets at the club and records for anyone who pays.",
             (140, 220), {"music": (60, 100)}, 3.5, ages=(18, 55),
             nudges={"creativity": 15, "judging": -10}, dreams=(
                 "To record an album that still matters in twenty years.",
                 "To play the Village Vanguard before I turn forty.")),
        Role("bartender", "Bartender", "Mixes drinks and listens to everyone's problems.",
             (140, 190), {"customer service": (30, 45)}, 1.5, ages=(21, 50), nudges={"extraversion": 10}),
        Role("music-director", "Music Director", "Books the acts and leads the house band.",
             (380, 450), {"music": (130, 150), "management": (40, 60)}, 0.3, ages=(30, 62), elite=True),
    ), size=10),
    Workplace("cafe", ("Grindhouse Coffee Bar", "Little Owl Espresso", "Bank Street Bagels"), (
        Role("barista", "Barista", "Pulls espresso shots and remembers everyone's order.",
             (110, 150), {"customer service": (10, 30), "cooking": (5, 15)}, 3, ages=(17, 40), entry=True,
             nudges={"extraversion": 6}),
        Role("cafe-manager", "Café Manager", "Runs the shifts, the stock and the till.",
             (220, 260), {"management": (30, 50), "customer service": (40, 60)}, 0.6, ages=(23, 55)),
    ), size=8),
    Workplace("school", ("P.S. 41 Greenwich Village School", "The Hudson Lane Academy"), (
        Role("teacher", "Teacher", "Teaches a class of nine-year-olds and grades homework on the subway.",
             (260, 320), {"teaching": (70, 90), "writing": (30, 45)}, 2.5, ages=(23, 62),
             nudges={"patience": 12, "empathy": 10}, dreams=("To be the teacher a kid remembers for life.",)),
        Role("assistant", "Teaching Assistant", "Supports the teachers and runs the after-school club.",
             (160, 200), {"teaching": (25, 40)}, 1, ages=(19, 45), entry=True),
    ), size=10),
    Workplace("office", ("The Village Ledger", "Hudson Review Magazine"), (
        Role("writer", "Staff Writer", "Reports on the neighbourhood and writes long features.",
             (220, 300), {"writing": (60, 90)}, 2, ages=(22, 60),
             nudges={"curiosity": 15}, dreams=("To publish a novel that people read on the subway.",)),
        Role("photographer", "Photographer", "Shoots the city for the paper and weddings on weekends.",
             (200, 260), {"photography": (60, 80)}, 1, ages=(20, 60), nudges={"creativity": 10}),
        Role("editor", "Editor-in-Chief", "Decides what the paper says and takes the angry calls.",
             (380, 440), {"writing": (120, 140), "management": (50, 70)}, 0.4, ages=(35, 62), elite=True),
    ), size=10),
    Workplace("bank", ("Hudson Savings Bank", "Meridian Capital"), (
        Role("teller", "Bank Teller", "Counts cash and sorts out customers' accounts.",
             (190, 240), {"finance": (30, 45), "customer service": (20, 35)}, 1.5, ages=(19, 60)),
        Role("fin-analyst", "Financial Analyst", "Builds spreadsheets that move other people's money.",
             (350, 420), {"finance": (80, 100)}, 2.5, ages=(22, 45), nudges={"thinking": 12, "confidence": 8},
             dreams=("To make my first million and retire my parents.",)),
        Role("banker", "Investment Banker", "Closes deals and lives on two phones.",
             (480, 500), {"finance": (130, 150), "management": (50, 70)}, 0.3, ages=(28, 55), elite=True,
             nudges={"control": 12, "confidence": 15}),
    ), size=10),
    Workplace("shop", ("Reyes Corner Deli", "Golden Lotus Grocery", "Kowalski Tailoring & Alterations"), (
        Role("shop-owner", "Shop Owner", "Opens at six, closes at ten and knows every customer.",
             (220, 300), {"management": (40, 60), "finance": (20, 30)}, 1.2, ages=(35, 62),
             nudges={"responsibility": 10}, dreams=("To send my children to college debt-free.",)),
        Role("clerk", "Shop Clerk", "Stocks shelves and runs the register.",
             (110, 150), {"customer service": (10, 25)}, 2, ages=(17, 50), entry=True),
        Role("tailor", "Tailor", "Alters suits and wedding dresses with old-world precision.",
             (170, 230), {"tailoring": (60, 80)}, 0.8, ages=(30, 62), nudges={"patience": 15}),
    ), size=6),
    Workplace("garage", ("Big Apple Cab Co-op", "Westside Car Service"), (
        Role("driver", "Cab Driver", "Drives twelve-hour shifts through Manhattan traffic.",
             (180, 240), {"driving": (60, 80)}, 2.5, ages=(21, 62),
             dreams=("To buy my own medallion and bring my family over.",)),
        Role("dispatcher", "Dispatcher", "Routes the fleet and calms furious customers.",
             (190, 230), {"management": (20, 35), "languages": (30, 50)}, 0.5, ages=(25, 62)),
    ), size=10),
    Workplace("office", ("Carroway Building Management",), (
        Role("super", "Building Superintendent", "Fixes boilers, leaks and locks, usually at night.",
             (220, 260), {"repairs": (60, 80), "carpentry": (30, 45)}, 0.5, ages=(35, 62), nudges={"responsibility": 12}),
    ), size=3),
    Workplace("gig", ("Pawsome Dog Walkers", "Village Errands Co."), (
        Role("dog-walker", "Dog Walker", "Walks six dogs at once through Washington Square.",
             (100, 140), {"animal care": (20, 35)}, 1, ages=(17, 40), entry=True),
    ), size=8),
    Workplace("university", ("Washington Square University",), (
        Role("undergrad", "Undergraduate", "Studies full time and lives on a small allowance.",
             (60, 120), {"writing": (10, 25)}, 5, cohorts=("student",), ages=(17, 24), work=False, min_age=None,
             gain={"writing": 2, "research": 2}, nudges={"curiosity": 10}, dreams=(
                 "To graduate, find out who I am and never move back home.",
                 "To turn my major into a career my parents will finally understand.")),
        Role("grad", "Graduate Student", "Researches a thesis and teaches undergraduates for a stipend.",
             (100, 150), {"research": (50, 70), "writing": (40, 60)}, 1.5, cohorts=("student",), ages=(22, 30),
             work=False, min_age=None, nudges={"curiosity": 15, "intelligence": 10},
             dreams=("To finish my dissertation and land a tenure-track job.",)),
        Role("lecturer", "Adjunct Lecturer", "Teaches three courses at two colleges and grades on trains.",
             (240, 300), {"teaching": (60, 80), "research": (70, 90)}, 1, ages=(27, 62)),
        Role("professor", "Professor", "Runs a research lab and sits on every committee.",
             (420, 480), {"research": (130, 150), "teaching": (80, 100)}, 0.3, ages=(35, 62), elite=True),
    ), affordances=("work", "study"), size=40, always=True),
)

_APARTMENT_PUBLIC = (
    PublicPlace("rooftop", "The Carroway Rooftop", "rooftop", ("leisure", "socialize", "event"), 25),
    PublicPlace("corner-coffee", "Corner Coffee on Bleecker", "cafe", ("leisure", "socialize"), 25,
                ("Mercer Street Espresso", "The Daily Grind", "Café Figaro Revival", "Bean & Barrel")),
    PublicPlace("washington-square", "Washington Square Park", "park", ("exercise", "leisure", "socialize", "event"), 80,
                ("Abingdon Square Park", "Hudson River Greenway", "Bleecker Playground", "Jackson Square")),
    PublicPlace("jefferson-library", "Jefferson Market Library", "library", ("study", "event"), 40,
                ("Hudson Park Library", "Mulberry Street Library")),
    PublicPlace("iron-gym", "Iron & Ivy Boxing Gym", "gym", ("exercise", "event"), 30,
                ("Village Climbing Wall", "Perry Street Yoga", "Hudson Fitness")),
    PublicPlace("bodega", "Sal's 24-Hour Bodega", "shop", ("shopping",), 15,
                ("Bleecker Pharmacy", "Christopher Street Bodega", "Second Chance Thrift")),
    PublicPlace("union-market", "Union Square Greenmarket", "market", ("shopping", "socialize"), 60),
    PublicPlace("strand-books", "Three Lives Bookshop", "shop", ("shopping", "leisure"), 20),
    PublicPlace("vinyl-bar", "The Dead Poet Bar", "bar", ("leisure", "socialize"), 35,
                ("Kettle of Fish", "The Tipsy Stoop", "Corner Bistro")),
    PublicPlace("community-center", "West Village Community Center", "community_hall", ("event", "socialize", "study"), 60),
    PublicPlace("cinema", "IFC Cinema", "cinema", ("leisure",), 60),
    PublicPlace("pier", "Pier 45", "park", ("exercise", "leisure", "socialize"), 60),
    PublicPlace("comedy-cellar", "The Comedy Basement", "club", ("leisure", "socialize", "event"), 40),
    PublicPlace("laundromat", "Suds & Duds Laundromat", "laundromat", ("socialize",), 12),
)

APARTMENT = Theme(
    name="apartment",
    title="The Carroway, Greenwich Village",
    setting=("The Carroway is a six-storey 1920s brick walk-up on Perry Street in Greenwich Village, "
             "Manhattan, and it is 2020. Behind its fire escapes live aspiring actors and hard-working "
             "lawyers, students, musicians, waiters, programmers, nurses and immigrant families who "
             "came for a better life. They meet on the tar-paper rooftop, in the corner coffee shop "
             "and in the narrow stairwell, where rents rise faster than anyone's pay."),
    cultures=(
        _culture("O'Brien Murphy Sullivan Walsh Kelly Brennan Gallagher Doyle Keane Quinn Fitzgerald Byrne Miller Cooper Hayes Parker",
                 "James Michael Ryan Kevin Brian Sean Patrick Daniel Matthew Tyler Connor Owen",
                 "Emily Sarah Megan Caitlin Erin Jessica Lauren Molly Hannah Claire Nora Grace"),
        _culture("Russo Esposito Romano Conti Ferrara Moretti Bianchi Lombardi DeLuca Marino Caruso Greco",
                 "Anthony Marco Vincent Luca Dominic Joseph Nicholas Paul Salvatore Frank",
                 "Gina Maria Angela Francesca Sofia Teresa Bianca Rosa Lucia Carla"),
        _culture("Goldberg Schwartz Katz Levine Friedman Rosen Adler Feldman Klein Kaplan Stern Weiss",
                 "David Aaron Benjamin Samuel Jacob Noah Eli Max Adam Josh",
                 "Rachel Leah Miriam Rebecca Naomi Talia Abby Dana Ruth Esther"),
        _culture("Rivera Rodríguez Santiago Martínez Torres Ortiz Reyes Vega Colón Díaz Medina Cruz",
                 "Luis Carlos José Miguel Javier Ángel Rafael Diego Andrés Manuel",
                 "Marisol Yesenia Carmen Daniela Lucía Ana Isabel Valeria Gabriela Inés"),
        _culture("Chen Wong Li Zhang Lin Huang Liu Wu Ng Lau Tan Zhao",
                 "Wei Kevin Jason Jun Tony Eric Ming Andrew Hao Victor",
                 "Mei Lily Jenny Xiaoyu Christine Annie Lin Amy Vivian Joyce"),
        _culture("Kim Park Lee Choi Jung Kang Cho Yoon Han Shin",
                 "Min-jun Daniel Jae Sung Joon Hyun Peter Tae-yang Dong-hyun",
                 "Ji-woo Soo-jin Hana Eunice Yuna Min-seo Seo-yeon Ha-eun"),
        _culture("Okafor Adeyemi Mensah Okonkwo Balogun Owusu Nwosu Asante Eze Boateng",
                 "Chidi Emeka Kwame Tunde Obinna Kofi Femi Ade Kwabena",
                 "Ngozi Amara Adaeze Funmi Ama Chioma Abena Yetunde Efua"),
        _culture("Patel Shah Gupta Singh Khan Rao Iyer Chowdhury Mehta Desai Reddy Malik",
                 "Arjun Rohan Vikram Sanjay Rahul Amir Imran Dev Nikhil",
                 "Priya Ananya Meera Aisha Nisha Sunita Kavya Farah Riya"),
        _culture("Kowalski Nowak Shevchenko Petrov Wiśniewski Kovalenko Volkov Zieliński Bondarenko Sokolov",
                 "Piotr Tomasz Oleksandr Dmitri Andrei Marek Pavel Ivan",
                 "Katarzyna Olena Natalia Agnieszka Irina Oksana Magda Yulia"),
    ),
    households=(
        Household("apartment", 0.28, (Member("worker", (20, 34, 25), (1, 1), "mate"),
                                      Member("student", (18, 26, 21), (0, 1), "mate"),
                                      Member("worker", (20, 32, 25), (1, 1), "mate")), family=False),
        Household("apartment", 0.25, (Member("worker", (21, 38, 26)),)),
        Household("apartment", 0.10, (Member("worker", (34, 62, 42)),)),
        Household("apartment", 0.16, (Member("worker", (24, 45, 31)), Member("worker", (24, 45, 31), relation="partner"))),
        Household("apartment", 0.13, (Member("worker", (38, 60, 46)), Member("worker", (36, 60, 45), relation="partner"),
                                      Member("student", (17, 22, 18), (0, 2), "child"),
                                      Member("worker", (18, 26, 21), (0, 1), "child"))),
        Household("apartment", 0.05, (Member("student", (17, 24, 19)),)),
    ),
    workplaces=_APARTMENT_WORK,
    public=_APARTMENT_PUBLIC,
    events=(
        ("Rooftop Sunset Yoga", "rooftop", "An easy-going yoga flow on the roof as the sun sets over the Hudson.", "fitness"),
        ("Open Mic Night", "comedy-cellar", "Five minutes on stage for anyone brave enough: songs, poems, jokes.", "acting"),
        ("Improv Workshop", "community-center", "Yes-and exercises led by a veteran of the Upright Citizens Brigade.", "acting"),
        ("Jazz Jam Session", "vinyl-bar", "Bring an instrument and sit in with the house trio.", "music"),
        ("Book Club: New York Stories", "jefferson-library", "Monthly discussion of a novel set in the city.", "writing"),
        ("Coding for Beginners", "jefferson-library", "A free evening class in Python for absolute beginners.", "programming"),
        ("Conversational Spanish Circle", "community-center", "Practise Spanish with native speakers over coffee.", "languages"),
        ("Boxing Fundamentals", "iron-gym", "Footwork, guard and combinations for beginners.", "fitness"),
        ("Washington Square 5K Run", "washington-square", "A friendly loop run around the park and back.", "fitness"),
        ("Chess in the Park", "washington-square", "Speed chess against the square's legendary hustlers.", "chess"),
        ("Street Photography Walk", "pier", "A guided walk along the river with a photographer.", "photography"),
        ("Tenants' Association Meeting", "community-center", "Residents discuss rent, repairs and the landlord.", None),
        ("Soup Kitchen Volunteering", "community-center", "Cook and serve a hot meal for neighbours in need.", "cooking"),
        ("Film Night: Classics of the Village", "cinema", "A screening followed by a talk with a film critic.", None),
        ("Salsa Night", "community-center", "Beginner salsa lesson followed by open dancing.", "dancing"),
        ("Life Drawing Class", "community-center", "Sketch a live model with a patient instructor.", "painting"),
    ),
    prices=(
        ("Subway ride", "free_low_cost", 3), ("Dollar slice of pizza", "free_low_cost", 2),
        ("Bodega coffee", "free_low_cost", 2), ("Public library card", "free_low_cost", 0),
        ("Latte at the corner coffee shop", "daily_entertainment", 6), ("Bagel with lox", "daily_entertainment", 9),
        ("Movie ticket", "daily_entertainment", 17), ("Craft beer at a bar", "daily_entertainment", 9),
        ("Used paperback", "daily_entertainment", 8), ("Comedy club cover charge", "daily_entertainment", 25),
        ("Dinner for two in the Village", "social_mid_frequency", 75), ("Off-Broadway ticket", "social_mid_frequency", 60),
        ("Jazz club night with drinks", "social_mid_frequency", 55), ("Drop-in yoga pack", "social_mid_frequency", 40),
        ("Brunch with friends", "social_mid_frequency", 35),
        ("Vintage leather jacket", "mid_range_valuable", 180), ("Noise-cancelling headphones", "mid_range_valuable", 300),
        ("Monthly gym membership", "mid_range_valuable", 120), ("Second-hand guitar", "mid_range_valuable", 250),
        ("Broadway orchestra seats", "mid_range_valuable", 350), ("Weekend bus trip to Boston", "mid_range_valuable", 90),
        ("New laptop", "large_luxury", 1400), ("Designer handbag", "large_luxury", 1800),
        ("Week in Puerto Rico", "large_luxury", 1500), ("Upright piano", "large_luxury", 2800),
        ("Tailored Italian suit", "large_luxury", 900),
    ),
    hobbies={"fitness": "runs along the Hudson at dawn", "cooking": "cooks elaborate dinners in a tiny kitchen",
             "photography": "photographs fire escapes and strangers", "languages": "is teaching {self} Italian",
             "dancing": "goes salsa dancing on Thursdays", "painting": "paints watercolours of the rooftops",
             "music": "plays an old guitar on the fire escape", "writing": "keeps a journal of overheard conversations",
             "chess": "plays speed chess in Washington Square", "acting": "takes weekend improv classes"},
    values=("Art matters more than money.", "Family comes first.", "Hard work pays off.",
            "Be kind to strangers; this city is hard enough.", "Freedom to be exactly who you are.",
            "Never forget where you came from.", "Loyalty to friends above all.", "Honesty, even when it hurts.",
            "Success is the best revenge.", "Leave every place better than you found it.",
            "Education opens every door.", "Live now; the rent can wait.", "Community is what makes a city home."),
    motivations={
        "worker": ("To make it in New York on my own terms.", "To find someone worth coming home to.",
                   "To build a life my parents would be proud of.", "To finally feel at home in this city."),
        "student": ("To figure out what I want before graduation catches up with me.",
                    "To make friends who will still be around in twenty years."),
    },
    deposits={"worker": (3600, 0.6, 400, 10000), "student": (1200, 0.6, 320, 5000)},
    extra_income={"student": (0.6, 50, 200, 30), "worker": (0.15, 20, 100, 27)},
    base_skills={"student": {"writing": (10, 40), "research": (5, 30)}, "worker": {"customer service": (0, 30)}},
    acquaintances=5.0,
    mix=(0.4, 0.4),
    styles={"": ("a thrifted vintage coat", "a sharp charcoal suit", "paint-spattered jeans", "a puffer jacket over work clothes",
                 "black jeans and a band T-shirt", "a hand-knitted cardigan", "running gear", "a crisp white shirt and loafers",
                 "a floral headscarf", "a leather jacket covered in pins", "tailored trousers and a turtleneck"),
            "student": ("a university hoodie", "black jeans and a band T-shirt", "a thrifted vintage coat",
                        "a denim jacket covered in pins", "an oversized sweater")},
    hair=("curly black hair", "a buzz cut", "long auburn hair", "short bleached hair", "dark braids", "a messy brown bun",
          "slicked-back hair", "shoulder-length blond hair", "a shaved head", "wavy chestnut hair"),
    unemployed=0.04,
    nonbinary=0.04,
    unemployed_phrase="is between jobs and auditioning for anything",
)

# ---------------------------------------------------------------------------------------------
# school: a high school in a coastal Chinese city, 2020s
# ---------------------------------------------------------------------------------------------

_STUDENT = dict(cohorts=("student",), ages=(15, 18), work=False, min_age=None, max_age=18)
_STAFF = ("teacher",)
_PARENT = ("parent",)

_SCHOOL_WORK = (
    Workplace("school", ("Jinghai No. 1 High School",), (
        Role("science-student", "Student, Science Track", "Studies mathematics, physics and chemistry for the gaokao.",
             (0, 40), {"mathematics": (10, 20)}, 4, gain={"mathematics": 3, "physics": 3, "chemistry": 2},
             nudges={"thinking": 6}, dreams=("To score high enough on the gaokao to get into Tsinghua.",
                                            "To become an engineer and build the bridges my father drives over."),
             **_STUDENT),
        Role("humanities-student", "Student, Humanities Track", "Studies Chinese, history, politics and English.",
             (0, 40), {"chinese": (10, 20)}, 3, gain={"chinese": 3, "history": 3, "english": 2},
             nudges={"intuition": 6}, dreams=("To study journalism in Shanghai and write stories that matter.",
                                            "To become a lawyer who helps people like my grandparents."),
             **_STUDENT),
        Role("arts-student", "Student, Arts & Sports Track", "Trains in art, music or sport alongside core classes.",
             (0, 40), {}, 1.5, gain={"art": 3, "music": 2, "fitness": 3},
             nudges={"creativity": 10}, dreams=("To get into the Central Academy of Fine Arts.",
                                              "To play basketball for the provincial team."),
             **_STUDENT),
        Role("math-teacher", "Mathematics Teacher", "Teaches senior mathematics and drills students for the exam.",
             (300, 360), {"mathematics": (100, 120), "teaching": (60, 80)}, 3, cohorts=_STAFF, ages=(24, 58),
             nudges={"thinking": 12, "judging": 10}),
        Role("chinese-teacher", "Chinese Literature Teacher", "Teaches classical poetry and essay writing.",
             (300, 350), {"chinese": (100, 120), "teaching": (60, 80)}, 3, cohorts=_STAFF, ages=(24, 58),
             nudges={"empathy": 8, "creativity": 8}),
        Role("english-teacher", "English Teacher", "Teaches English and coaches the debate club.",
             (290, 340), {"english": (100, 120), "teaching": (60, 80)}, 2.5, cohorts=_STAFF, ages=(24, 58)),
        Role("physics-teacher", "Physics Teacher", "Teaches physics with home-made experiments.",
             (290, 350), {"physics": (100, 120), "teaching": (60, 80)}, 1.5, cohorts=_STAFF, ages=(24, 58)),
        Role("chemistry-teacher", "Chemistry Teacher", "Teaches chemistry and guards the lab keys.",
             (290, 340), {"chemistry": (100, 120), "teaching": (60, 80)}, 1.2, cohorts=_STAFF, ages=(24, 58)),
        Role("history-teacher", "History & Politics Teacher", "Teaches history and politics to the humanities classes.",
             (280, 330), {"history": (100, 120), "teaching": (60, 80)}, 1.2, cohorts=_STAFF, ages=(24, 58)),
        Role("pe-teacher", "PE Teacher", "Runs morning exercises and coaches the basketball team.",
             (260, 310), {"fitness": (100, 120), "teaching": (40, 60)}, 1.2, cohorts=_STAFF, ages=(24, 55),
             nudges={"extraversion": 12, "health": 15}),
        Role("art-teacher", "Art & Music Teacher", "Teaches art and music and prepares the arts students' portfolios.",
             (250, 300), {"art": (90, 110), "music": (50, 70)}, 0.8, cohorts=_STAFF, ages=(24, 58),
             nudges={"creativity": 15}),
        Role("grade-director", "Grade Director", "Leads a whole grade's teachers and answers to the principal.",
             (380, 420), {"teaching": (120, 140), "management": (60, 80)}, 0.5, cohorts=_STAFF, ages=(35, 58),
             elite=True, nudges={"control": 12, "leadership": 10}),
        Role("principal", "Principal", "Runs the school and faces the parents, the bureau and the rankings.",
             (480, 500), {"management": (130, 150), "teaching": (100, 120)}, 0.15, cohorts=_STAFF, ages=(45, 58),
             elite=True, nudges={"leadership": 15, "confidence": 12}),
    ), affordances=("work", "study"), size=400, always=True),
    Workplace("office", ("Jinghai No. 1 Administration Office",), (
        Role("counsellor", "Student Counsellor", "Listens to students buckling under exam pressure.",
             (260, 300), {"counselling": (80, 100)}, 0.4, cohorts=_STAFF, ages=(26, 58), nudges={"empathy": 18}),
        Role("accountant", "School Accountant", "Keeps the school's accounts and chases unpaid fees.",
             (250, 300), {"accounting": (70, 90)}, 0.4, cohorts=_STAFF, ages=(25, 58)),
        Role("secretary", "Office Secretary", "Handles forms, phones and the principal's diary.",
             (200, 240), {"writing": (30, 50)}, 0.5, cohorts=_STAFF, ages=(22, 58)),
        Role("it-tech", "IT Technician", "Keeps the projectors and the computer lab alive.",
             (240, 290), {"programming": (60, 80)}, 0.3, cohorts=_STAFF, ages=(22, 50)),
        Role("school-nurse", "School Nurse", "Treats sprained ankles and exam-week fainting spells.",
             (240, 280), {"nursing": (70, 90)}, 0.3, cohorts=_STAFF, ages=(24, 58), nudges={"empathy": 12}),
        Role("librarian", "Librarian", "Runs the library and the school's reading club.",
             (210, 250), {"chinese": (60, 80)}, 0.4, cohorts=_STAFF, ages=(25, 58), nudges={"patience": 12}),
        Role("janitor", "Janitor", "Cleans, mends and knows every secret corner of campus.",
             (130, 170), {"repairs": (20, 40)}, 0.8, cohorts=_PARENT, ages=(30, 58), entry=True),
        Role("guard", "Security Guard", "Guards the gate and confiscates phones.",
             (150, 180), {"fitness": (40, 60)}, 0.6, cohorts=_PARENT, ages=(25, 58)),
    ), size=40, always=True),
    Workplace("kitchen", ("Jinghai No. 1 Canteen Kitchen",), (
        Role("canteen-cook", "Canteen Cook", "Cooks two thousand lunches a day in giant woks.",
             (160, 210), {"cooking": (50, 70)}, 1, cohorts=_PARENT, ages=(25, 58)),
        Role("kitchen-hand", "Kitchen Hand", "Washes trays and serves rice.",
             (120, 150), {"cooking": (10, 20)}, 0.8, cohorts=_PARENT, ages=(18, 58), entry=True),
    ), size=20),
    Workplace("market", ("Harbour Seafood Market", "Dongmen Wet Market"), (
        Role("fishmonger", "Fishmonger", "Sells the morning catch from a family stall.",
             (180, 260), {"sales": (40, 60), "cooking": (20, 30)}, 1.5, cohorts=("parent",), ages=(30, 58),
             dreams=("To make sure my child never has to stand behind this stall.",)),
        Role("stall-helper", "Stall Helper", "Hauls ice and guts fish before dawn.",
             (110, 150), {"sales": (5, 15)}, 0.5, cohorts=("parent",), ages=(18, 58), entry=True),
    ), size=8),
    Workplace("hospital", ("Jinghai People's Hospital",), (
        Role("doctor", "Doctor", "Sees eighty outpatients a day.", (400, 480), {"medicine": (120, 150)}, 0.5,
             cohorts=("parent",), ages=(30, 58), elite=True, nudges={"intelligence": 12},
             dreams=("To see my child follow me into medicine, or anywhere they choose.",)),
        Role("hospital-nurse", "Nurse", "Works rotating shifts on the surgical ward.", (250, 300), {"nursing": (80, 100)}, 1,
             cohorts=("parent",), ages=(24, 58), nudges={"empathy": 10}),
    ), size=15),
    Workplace("warehouse", ("Jinghai Port Logistics", "Haixing Electronics Factory"), (
        Role("dock-worker", "Warehouse Worker", "Loads containers on long night shifts.",
             (170, 220), {"fitness": (50, 70), "driving": (10, 25)}, 1.5, cohorts=("parent",), ages=(18, 58), entry=True),
        Role("logistics-clerk", "Logistics Clerk", "Tracks shipments and fights with customs forms.",
             (200, 250), {"accounting": (40, 60)}, 0.8, cohorts=("parent",), ages=(22, 58)),
        Role("ops-manager", "Operations Manager", "Runs the warehouse floor and its budget.",
             (400, 460), {"management": (110, 130), "accounting": (50, 70)}, 0.3, cohorts=("parent",), ages=(35, 58),
             elite=True, nudges={"control": 10}),
    ), size=12),
    Workplace("restaurant", ("Golden Wok Restaurant", "Old Street Noodle House", "Sunny Days Milk Tea"), (
        Role("restaurant-owner", "Restaurant Owner", "Runs a family restaurant six days a week.",
             (250, 350), {"cooking": (70, 90), "management": (40, 60)}, 0.8, cohorts=("parent",), ages=(32, 58),
             dreams=("To buy a flat in a good school district.",)),
        Role("server", "Server", "Takes orders and delivers noodles at speed.",
             (120, 160), {"customer service": (10, 25)}, 0.6, cohorts=("parent",), ages=(16, 58), entry=True),
    ), size=8),
    Workplace("garage", ("Jinghai Taxi Company",), (
        Role("taxi-driver", "Taxi Driver", "Drives the night shift and knows every shortcut in the city.",
             (190, 240), {"driving": (60, 80)}, 1, cohorts=("parent",), ages=(25, 58)),
    ), size=15),
    Workplace("office", ("Haibin Real Estate Agency", "Jinghai Civil Affairs Bureau"), (
        Role("estate-agent", "Estate Agent", "Shows flats near the school to anxious parents.",
             (200, 380), {"sales": (60, 80)}, 0.6, cohorts=("parent",), ages=(24, 58), nudges={"extraversion": 12}),
        Role("civil-servant", "Civil Servant", "Processes permits at a government bureau.",
             (250, 320), {"writing": (50, 70), "accounting": (30, 50)}, 0.8, cohorts=("parent",), ages=(24, 58),
             nudges={"judging": 12}),
    ), size=10),
    Workplace("office", ("Bright Future Tutoring Centre",), (
        Role("tutor", "Tutor", "Tutors younger pupils in mathematics after school.",
             (200, 260), {"mathematics": (50, 70), "teaching": (15, 25)}, 0.4, cohorts=("parent", "teacher"), ages=(18, 58),
             min_age=18, entry=True),
        Role("centre-director", "Centre Director", "Runs the tutoring centre and its advertising.",
             (380, 430), {"teaching": (110, 130), "management": (60, 80)}, 0.2, cohorts=("parent",), ages=(30, 58),
             elite=True),
    ), affordances=("work", "study"), size=10, always=True),
    Workplace("university", ("Jinghai Normal University",), (
        Role("undergrad", "Undergraduate", "Studies at the local university and lives on family support.",
             (40, 100), {"chinese": (35, 45), "mathematics": (35, 45)}, 0, cohorts=("none",), work=False,
             min_age=18, entry=True, gain={"teaching": 2, "research": 2}),
        Role("lecturer", "University Lecturer", "Teaches teacher-trainees and publishes papers.",
             (330, 400), {"research": (100, 120), "teaching": (80, 100)}, 0.3, cohorts=("parent",), ages=(30, 58)),
    ), affordances=("work", "study"), size=20, always=True),
)

_SCHOOL_PUBLIC = (
    PublicPlace("school-library", "School Library", "library", ("study", "event"), 60),
    PublicPlace("study-hall", "Evening Self-Study Hall", "study_hall", ("study",), 120),
    PublicPlace("sports-field", "Sports Field", "sports_field", ("exercise", "event", "socialize"), 150),
    PublicPlace("gymnasium", "Gymnasium", "gym", ("exercise", "event"), 80),
    PublicPlace("canteen", "School Canteen", "canteen", ("socialize", "leisure"), 150),
    PublicPlace("courtyard", "Banyan Tree Courtyard", "courtyard", ("socialize", "leisure"), 80),
    PublicPlace("auditorium", "Auditorium", "auditorium", ("event", "leisure"), 200),
    PublicPlace("convenience-store", "Family Mart by the Gate", "shop", ("shopping",), 20,
                ("Lawson on Haibin Road", "Quik Stop Kiosk", "Stationery Corner")),
    PublicPlace("milk-tea", "Bubble Tea Corner", "cafe", ("leisure", "socialize"), 25,
                ("Heytea Haibin", "Coco Fresh Tea", "Mixue Ice Cream & Tea")),
    PublicPlace("bookstore", "Xinhua Bookstore", "shop", ("shopping", "study"), 40),
    PublicPlace("night-market", "Haibin Night Market", "market", ("shopping", "leisure", "socialize"), 120),
    PublicPlace("riverside-park", "Riverside Park", "park", ("exercise", "leisure", "socialize", "event"), 100,
                ("Seaside Promenade", "Lotus Pond Garden", "Hilltop Pavilion Park")),
    PublicPlace("internet-cafe", "Starlight Internet Café", "internet_cafe", ("leisure",), 40,
                ("Dragon Gate Arcade", "Galaxy E-sports Bar")),
    PublicPlace("ktv", "Melody KTV", "karaoke", ("leisure", "socialize"), 40),
    PublicPlace("mall", "Wanda Plaza", "mall", ("shopping", "leisure"), 150),
)

SCHOOL = Theme(
    name="school",
    title="Jinghai No. 1 High School",
    setting=("Jinghai No. 1 High School is a key high school in a fast-growing coastal city in China in the "
             "2020s. Most of its people are students aged 15 to 18 preparing for the gaokao, the national "
             "exam that can decide a life; with them are their teachers, the school staff and a few "
             "parents who run stalls, drive taxis or work at the port. Life moves between classrooms, "
             "the dormitories, the canteen, the sports field and the night market beyond the gate."),
    cultures=(
        NameCulture(
            tuple("Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu Sun Hu Zhu Gao Lin He Guo Ma Luo Liang Song Zheng Xie "
                  "Han Tang Feng Yu Dong Xiao Cheng Cao Yuan Deng Fu Shen Zeng Peng Su Lu Jiang Cai Jia Ding Wei Xue Ye "
                  "Yan Pan Du Dai Xia Zhong Tian Ren Fan Fang Shi Yao Tan Qin".split()),
            ((0, tuple("hao yu zi xuan jun hang tian yi bo chen rui kai ming wei jie feng lei peng tao yang zhi cheng "
                       "qiang long an heng lin xin shuo ze hong".split())),),
            ((0, tuple("xin yi yu han meng jia qi xue ting ya lan fang jing wen xiao hui li na yan mei shu rou tong ke "
                       "yue si qing ning".split())),),
            surname_first=True, compound=True, married_name=0.0),
    ),
    households=(
        Household("dorm", 0.20, (Member("student", (15, 18, 16), (3, 4), "mate"),), family=False),
        Household("family_flat", 0.35, (Member("student", (15, 18, 16), (1, 2), "child"),)),
        Household("family_flat", 0.12, (Member("parent", (38, 52, 44)), Member("student", (15, 18, 16), (1, 2), "child"))),
        Household("family_flat", 0.05, (Member("parent", (38, 52, 44)), Member("parent", (38, 52, 44), relation="partner"),
                                 Member("student", (15, 18, 16), (1, 1), "child"))),
        Household("staff", 0.12, (Member("teacher", (24, 58, 32)),)),
        Household("staff", 0.08, (Member("teacher", (30, 55, 40)), Member("parent", (30, 55, 40), relation="partner"),
                                  Member("student", (15, 18, 16), (0, 1), "child"))),
    ),
    workplaces=_SCHOOL_WORK,
    public=_SCHOOL_PUBLIC,
    events=(
        ("Morning Basketball Training", "sports-field", "The school team's open practice; anyone can join the drills.", "fitness"),
        ("Mathematics Olympiad Club", "school-library", "Hard problems, chalk and pride every week.", "mathematics"),
        ("Debate Club", "auditorium", "English-language debate on a motion chosen by the students.", "english"),
        ("Calligraphy Workshop", "school-library", "Brush calligraphy with a retired master.", "art"),
        ("School Choir Rehearsal", "auditorium", "Rehearsal for the spring arts festival.", "music"),
        ("Physics Lab Open Day", "study-hall", "Build circuits and rockets with the physics teachers.", "physics"),
        ("Classical Poetry Recital", "school-library", "Students recite Tang poems from memory.", "chinese"),
        ("Badminton Tournament", "gymnasium", "A knockout tournament, doubles and singles.", "fitness"),
        ("Evening Run by the River", "riverside-park", "A relaxed group run along the river at dusk.", "fitness"),
        ("Coding Club", "study-hall", "Learn to program a small game in Python.", "programming"),
        ("Beach Clean-up Volunteering", "riverside-park", "Collect plastic along the shore with the youth league.", None),
        ("Art Sketching Outing", "courtyard", "Sketch the banyan tree and the old gate.", "art"),
        ("Gaokao Strategy Talk", "auditorium", "Senior teachers explain how to plan the last months before the exam.", None),
        ("English Corner", "courtyard", "Chat in English with teachers and classmates.", "english"),
        ("Tai Chi for Everyone", "sports-field", "Slow morning tai chi with staff and parents.", "fitness"),
        ("Chess and Go Club", "canteen", "Board games after lunch.", "chess"),
    ),
    prices=(
        ("Bus ride", "free_low_cost", 2), ("Steamed buns for breakfast", "free_low_cost", 3),
        ("Library book loan", "free_low_cost", 0), ("Exercise book and pens", "free_low_cost", 6),
        ("Bubble tea", "daily_entertainment", 15), ("Night-market skewers", "daily_entertainment", 12),
        ("Hour at the internet café", "daily_entertainment", 8), ("Comic magazine", "daily_entertainment", 10),
        ("Mobile game top-up", "daily_entertainment", 30), ("Snacks from the convenience store", "daily_entertainment", 8),
        ("Hotpot with classmates", "social_mid_frequency", 60), ("KTV evening", "social_mid_frequency", 50),
        ("Cinema ticket and popcorn", "social_mid_frequency", 45), ("Birthday cake for a friend", "social_mid_frequency", 70),
        ("Practice exam book set", "social_mid_frequency", 40),
        ("Basketball shoes", "mid_range_valuable", 320), ("Bluetooth earphones", "mid_range_valuable", 200),
        ("Summer tutoring course", "mid_range_valuable", 380), ("Graphic tablet", "mid_range_valuable", 260),
        ("Concert ticket", "mid_range_valuable", 280), ("Winter coat from the mall", "mid_range_valuable", 150),
        ("New smartphone", "large_luxury", 2500), ("Laptop for university", "large_luxury", 2800),
        ("Family trip to Sanya", "large_luxury", 2000), ("Electric scooter", "large_luxury", 1200),
        ("Upright piano lessons for a year", "large_luxury", 1600),
    ),
    hobbies={"fitness": "plays basketball whenever the field is free", "art": "fills notebooks with anime sketches",
             "music": "practises the guzheng in the evening", "chess": "plays Go against an app at night",
             "programming": "writes little games on an old laptop", "english": "watches American TV shows without subtitles",
             "cooking": "turns instant noodles into surprisingly good dinners", "calligraphy": "practises brush calligraphy every morning"},
    values=("Study hard and repay your parents.", "Friendship is worth more than rank.", "Face matters.",
            "Fairness above all.", "Never give up before the exam is over.", "Be true to yourself.",
            "Family honour.", "Respect your teachers.", "Work hard, play hard.", "Kindness to the weak.",
            "Freedom to choose your own path.", "Knowledge changes fate."),
    motivations={
        "student": ("To get into a top university and make my parents proud.", "To find out what I want beyond the gaokao.",
                    "To make friends I will keep for life.", "To escape this city and see the world."),
        "teacher": ("To see the students I know do better than I did.", "To earn a promotion and a bigger flat.",
                    "To be respected by colleagues and students alike."),
        "parent": ("To give my child the chances I never had.", "To pay off the flat and sleep through the night."),
    },
    deposits={"student": (600, 0.7, 80, 5000), "teacher": (12000, 0.6, 2000, 40000), "parent": (15000, 0.9, 1000, 85000)},
    extra_income={"student": (0.85, 60, 150, 20), "parent": (0.1, 50, 200, 99)},
    base_skills={"student": {"mathematics": (10, 60), "chinese": (10, 60), "english": (10, 60), "physics": (5, 50),
                             "chemistry": (5, 50), "history": (5, 50), "fitness": (10, 50)},
                 "teacher": {"teaching": (20, 40)}, "parent": {"cooking": (10, 50)}},
    acquaintances=10.5,
    mix=(0.55, 0.25),
    styles={"student": ("a blue-and-white school tracksuit", "a school uniform with the sleeves pushed up",
                        "a cardigan over the uniform", "the uniform with a hoodie underneath", "a spotless, ironed uniform"),
            "": ("a pressed grey suit", "a faded polo shirt", "a rain jacket and rubber boots", "a tracksuit and trainers",
                 "a neat blouse and reading glasses", "a windbreaker and cotton trousers", "a knitted vest over a shirt")},
    hair=("short black hair", "a high ponytail", "a neat bob", "spiky black hair", "a crew cut", "long black hair in a braid",
          "bangs that hide the eyes", "neatly parted hair"),
    unemployed=0.03,
    classes_by_age=True,
    unemployed_phrase="is looking for work",
)

# ---------------------------------------------------------------------------------------------
# rivertown: a small river town of fishers, farmers and a mill
# ---------------------------------------------------------------------------------------------

_RIVERTOWN_WORK = (
    Workplace("fishery", ("Wend Valley Fishing Co-operative", "Eelbrook Fisheries"), (
        Role("fisher", "Fisher", "Works the nets and eel traps on the river from dawn.",
             (150, 230), {"fishing": (50, 80), "boating": (20, 35)}, 5, ages=(18, 68),
             nudges={"patience": 12, "health": 8}, dreams=("To buy my own boat before my back gives out.",)),
        Role("skipper", "Skipper", "Captains the co-op's biggest boat and decides where to fish.",
             (300, 380), {"fishing": (110, 130), "boating": (80, 100)}, 0.8, ages=(35, 70), nudges={"confidence": 10}),
    ), size=12, always=True),
    Workplace("farm", ("Hollow Oak Farm", "Brackenridge Dairy", "Ashby Orchards", "Lowmead Farm", "Thistle End Farm"), (
        Role("farmhand", "Farmhand", "Mends fences, mucks out and brings in the harvest.",
             (120, 170), {"farming": (20, 40), "fitness": (30, 45)}, 5, ages=(16, 65), entry=True,
             nudges={"health": 10}),
        Role("farmer", "Farmer", "Runs the family farm through good years and bad.",
             (250, 380), {"farming": (100, 130), "animal care": (50, 70), "management": (30, 50)}, 2.5, ages=(32, 75),
             nudges={"responsibility": 12, "patience": 8}, dreams=("To keep the farm in the family for another generation.",)),
        Role("dairyman", "Dairy Hand", "Milks the herd twice a day, every day.",
             (160, 210), {"animal care": (50, 70)}, 1.5, ages=(18, 65)),
    ), size=8),
    Workplace("mill", ("The Old Wend Mill",), (
        Role("mill-hand", "Mill Hand", "Hauls sacks and tends the stones and sifters.",
             (150, 200), {"milling": (30, 50)}, 3, ages=(17, 65), entry=True),
        Role("millwright", "Millwright", "Keeps the water wheel and the gears turning.",
             (240, 300), {"carpentry": (80, 100), "mechanics": (60, 80)}, 0.6, ages=(28, 68)),
        Role("miller", "Master Miller", "Judges the grain and sets the stones by ear.",
             (380, 430), {"milling": (120, 140)}, 0.5, ages=(40, 72), elite=True, nudges={"patience": 12}),
        Role("mill-manager", "Mill Manager", "Runs the mill as a business and negotiates with the bakeries.",
             (420, 480), {"management": (110, 130), "bookkeeping": (60, 80)}, 0.2, ages=(35, 68), elite=True,
             nudges={"leadership": 12, "control": 10}),
    ), size=20, always=True),
    Workplace("bakery", ("Thorne's Bakery",), (
        Role("baker", "Baker", "Bakes the town's bread from the mill's own flour, starting at four.",
             (170, 230), {"baking": (60, 90)}, 1.5, ages=(20, 70), dreams=("To win the county show's bread prize.",)),
        Role("apprentice-baker", "Apprentice Baker", "Learns the trade, mostly by sweeping flour.",
             (110, 140), {"baking": (10, 20)}, 0.8, ages=(16, 25), entry=True),
    ), size=6),
    Workplace("shop", ("Marsh & Daughters General Store", "Riverside Post Office & Stores"), (
        Role("shopkeeper", "Shopkeeper", "Sells everything from nails to gossip.",
             (200, 270), {"sales": (50, 70), "bookkeeping": (30, 45)}, 1.2, ages=(30, 72), nudges={"extraversion": 10}),
        Role("shop-assistant", "Shop Assistant", "Stacks shelves and delivers groceries by bicycle.",
             (110, 150), {"sales": (10, 20)}, 1.2, ages=(16, 65), entry=True),
        Role("postal-worker", "Postal Worker", "Delivers the post to every farm in the valley.",
             (160, 200), {"driving": (30, 45)}, 0.8, ages=(20, 65)),
    ), size=6),
    Workplace("clinic", ("Rivertown Clinic",), (
        Role("gp", "General Practitioner", "Treats the whole valley and has delivered half of its residents.",
             (450, 500), {"medicine": (130, 150)}, 0.6, ages=(32, 70), elite=True, nudges={"trustworthiness": 12}),
        Role("district-nurse", "District Nurse", "Visits the elderly and the newborn on daily rounds.",
             (260, 320), {"nursing": (80, 100)}, 1.2, ages=(24, 65), nudges={"empathy": 15}),
        Role("receptionist", "Clinic Receptionist", "Books appointments and triages the worried well.",
             (150, 190), {"bookkeeping": (20, 35)}, 0.5, ages=(20, 68)),
    ), size=8, always=True),
    Workplace("brewery", ("Wendbrook Brewery & Tap",), (
        Role("brewer", "Brewer", "Brews the ales poured at the Otter's Rest.",
             (200, 260), {"brewing": (60, 90)}, 1, ages=(22, 68)),
        Role("bar-staff", "Bar Staff", "Pulls pints and keeps the peace.",
             (120, 160), {"customer service": (20, 35)}, 1.5, ages=(18, 50), min_age=18, entry=True,
             nudges={"extraversion": 12}),
        Role("publican", "Publican", "Runs the pub and hears every secret in town.",
             (250, 320), {"management": (60, 80), "brewing": (50, 70)}, 0.4, ages=(35, 70)),
    ), size=8),
    Workplace("school", ("Riverside Primary School",), (
        Role("teacher", "Teacher", "Teaches a mixed class of village children.",
             (280, 330), {"teaching": (80, 100)}, 1.2, ages=(23, 66), nudges={"patience": 12}),
        Role("teaching-assistant", "Teaching Assistant", "Helps with reading groups and playground duty.",
             (150, 190), {"teaching": (20, 35)}, 0.6, ages=(18, 66), entry=True),
        Role("headteacher", "Headteacher", "Runs the school and fights the council to keep it open.",
             (380, 440), {"teaching": (120, 140), "management": (60, 80)}, 0.2, ages=(38, 66), elite=True),
    ), size=8),
    Workplace("boatyard", ("Pike & Sons Boatyard",), (
        Role("boatbuilder", "Boatbuilder", "Builds and mends wooden river boats.",
             (230, 290), {"carpentry": (70, 90), "boating": (40, 60)}, 1.2, ages=(22, 72), nudges={"patience": 10}),
        Role("boat-apprentice", "Apprentice Boatbuilder", "Steams planks and learns from the old hands.",
             (110, 140), {"carpentry": (10, 20)}, 0.6, ages=(16, 25), entry=True),
    ), size=6),
    Workplace("garage", ("Hartley's Garage",), (
        Role("mechanic", "Mechanic", "Fixes tractors, vans and the vicar's ancient car.",
             (200, 260), {"mechanics": (60, 90)}, 1, ages=(18, 68)),
    ), size=5),
    Workplace("office", ("Rivertown Parish Council", "St. Brigid's Parish Office"), (
        Role("clerk", "Council Clerk", "Takes the minutes and keeps the town's accounts.",
             (220, 270), {"bookkeeping": (60, 80), "writing": (30, 45)}, 0.4, ages=(28, 70), nudges={"judging": 12}),
        Role("vicar", "Vicar", "Leads the parish, visits the sick and chairs the fête committee.",
             (220, 260), {"preaching": (80, 100), "counselling": (40, 60)}, 0.2, ages=(35, 72),
             nudges={"empathy": 10, "integrity": 12}),
    ), size=5),
    Workplace("college", ("Wend Valley Agricultural College",), (
        Role("college-student", "Agricultural College Student", "Studies farming and land management.",
             (60, 120), {"farming": (5, 15)}, 1, cohorts=("young",), ages=(16, 22), work=False, min_age=None,
             gain={"farming": 3, "animal care": 2}, nudges={"curiosity": 8},
             dreams=("To modernise my family's farm without losing what makes it ours.",)),
        Role("lecturer", "College Lecturer", "Teaches crop science and soil management.",
             (260, 320), {"farming": (90, 110), "teaching": (60, 80)}, 0.3, ages=(30, 68)),
    ), affordances=("work", "study"), size=30, always=True),
    Workplace("community_hall", ("Rivertown Pensioners' Club",), (
        Role("retired", "Retired", "Lives on a pension and keeps the town's memory.",
             (120, 250), {}, 1, cohorts=("retired",), ages=(60, 120), work=False, min_age=60,
             gain={"gardening": 1}, nudges={"patience": 8}, intro="is retired and a regular at the {org}", dreams=(
                 "To see my grandchildren settled and the mill still turning.",
                 "To write down the town's history before the old stories are lost.",
                 "To enjoy every quiet morning on the river bank I have left.")),
    ), affordances=("work", "event", "socialize"), size=500, always=True),
)

_RIVERTOWN_PUBLIC = (
    PublicPlace("market-square", "Market Square", "market", ("shopping", "socialize", "event"), 120),
    PublicPlace("river-bank", "The River Bank", "park", ("exercise", "leisure", "socialize"), 100,
                ("Weir Meadow", "Willow Reach", "Heron Point")),
    PublicPlace("church", "St. Brigid's Church", "church", ("event", "socialize"), 120),
    PublicPlace("community-hall", "Rivertown Community Hall", "community_hall", ("event", "socialize", "study"), 100),
    PublicPlace("pub", "The Otter's Rest", "pub", ("leisure", "socialize"), 50, ("The Kingfisher", "The Miller's Arms", "The Ferry Inn")),
    PublicPlace("village-green", "Village Green", "park", ("exercise", "leisure", "socialize", "event"), 150),
    PublicPlace("library", "Rivertown Library", "library", ("study", "event"), 30),
    PublicPlace("tea-room", "Bramble Tea Room", "cafe", ("leisure", "socialize"), 25, ("The Copper Kettle", "Lock Keeper's Café")),
    PublicPlace("hardware", "Hollis Hardware & Feed", "shop", ("shopping",), 15, ("Chandler's Chandlery", "Wendbrook Butchers")),
    PublicPlace("football-pitch", "Recreation Ground", "sports_field", ("exercise", "event"), 80),
    PublicPlace("allotments", "Mill Lane Allotments", "garden", ("exercise", "leisure"), 40),
    PublicPlace("boathouse", "Rowing Club Boathouse", "club", ("exercise", "event", "socialize"), 40),
    PublicPlace("fishing-pier", "Old Fishing Pier", "pier", ("leisure",), 20),
)

RIVERTOWN = Theme(
    name="rivertown",
    title="Rivertown on the Wend",
    setting=("Rivertown is a small market town on a bend of the River Wend, where the old water mill still grinds "
             "the valley's wheat. Fishers work the river at dawn, farmers drive their tractors through the high "
             "street, and the clinic, the bakery and the Otter's Rest pub hold the place together. Young people "
             "wonder whether to stay or leave for the city, while the retirees remember the floods of '68."),
    cultures=(
        NameCulture(
            tuple("Thatcher Miller Fletcher Cooper Fisher Barker Tanner Carter Shepherd Mason Walker Turner Harper Webb Dyer "
                  "Thorne Ashby Hollis Pike Reeve Marsh Brook Rivers Weaver Hayward Lowe Pritchard Gill Nash Cole Sawyer "
                  "Crane Holt Finch Hale Perkins Dawson Hobbs Ridley Burton Kemp Willis Pearce Bishop Lambert Hughes Baxter "
                  "Booth Chandler Draper Fowler Garner Hartley Jennings Kirby Lister Moss Newman Osborne Parsons Rowe "
                  "Saunders Tate Underwood Vickers Warren Yates Abbott Bell Cross Dean Ellis Frost Gower Hurst Ingram Judd".split()),
            _bands("Jack Oliver Harry George Thomas William James Charlie Alfie Joshua Samuel Daniel Ben Luke Ethan Ryan "
                   "Adam Callum Liam Owen",
                   older="Harold Arthur Geoffrey Kenneth Brian Roy Dennis Malcolm Derek Colin Graham Trevor Alan Barry Clive "
                         "Nigel Peter Raymond",
                   middle="Mark Paul Andrew Richard Stephen Simon Gary Neil Darren Lee Matthew Jason Craig Martin"),
            _bands("Olivia Emily Amelia Jessica Sophie Chloe Lucy Ellie Grace Hannah Megan Holly Katie Abigail Lauren Bethany "
                   "Molly Rosie Freya Isla",
                   older="Margaret Joan Pauline Brenda Sheila Maureen Janet Doreen Carol Sandra Hazel Valerie Elaine Jean "
                         "Patricia Wendy Gillian Barbara",
                   middle="Sarah Claire Nicola Helen Joanne Karen Lisa Rachel Emma Kerry Louise Amanda Julie Victoria")),
    ),
    households=(
        Household("house", 0.15, (Member("retired", (64, 88, 72)), Member("retired", (64, 88, 72), relation="partner"))),
        Household("cottage", 0.08, (Member("retired", (68, 92, 78)),)),
        Household("farmhouse", 0.13, (Member("worker", (40, 64, 50)), Member("worker", (38, 64, 50), relation="partner"),
                                      Member("worker", (18, 32, 24), (1, 2), "child"))),
        Household("house", 0.15, (Member("worker", (23, 40, 29)), Member("worker", (23, 40, 29), relation="partner"))),
        Household("cottage", 0.18, (Member("worker", (20, 64, 35)),)),
        Household("house", 0.11, (Member("worker", (38, 56, 45)), Member("worker", (36, 56, 44), relation="partner"),
                                  Member("young", (16, 20, 17), (1, 2), "child"))),
        Household("farmhouse", 0.06, (Member("retired", (68, 90, 76), relation="elder"), Member("worker", (42, 62, 50)),
                                      Member("worker", (40, 62, 49), relation="partner"),
                                      Member("young", (16, 22, 19), (1, 1), "child"))),
        Household("shared", 0.08, (Member("worker", (19, 30, 23), (2, 3), "mate"),), family=False),
    ),
    workplaces=_RIVERTOWN_WORK,
    public=_RIVERTOWN_PUBLIC,
    events=(
        ("Sunday Service and Choir", "church", "Hymns, a sermon and tea afterwards.", "music"),
        ("Harvest Festival Preparations", "community-hall", "Decorating the hall and sorting produce for the food bank.", None),
        ("River Clean-up", "river-bank", "Volunteers haul rubbish from the reeds and the weir.", None),
        ("Fly-Fishing Lesson", "fishing-pier", "An old hand teaches casting and knots.", "fishing"),
        ("Rowing Club Training", "boathouse", "Evening outing in the club's fours and eights.", "fitness"),
        ("Village Football Practice", "football-pitch", "Five-a-side for all ages and abilities.", "fitness"),
        ("Allotment Growing Workshop", "allotments", "Seed saving, compost and slug wars.", "gardening"),
        ("Local History Talk", "library", "Stories and photographs of the mill and the great flood.", "history"),
        ("Bread-Making Class", "community-hall", "Sourdough with flour from the Old Wend Mill.", "baking"),
        ("Country Dancing Night", "community-hall", "Ceilidh dances with a live fiddle band.", "dancing"),
        ("Parish Council Open Meeting", "community-hall", "Residents debate the new bridge and the bus timetable.", None),
        ("Farmers' Market Volunteering", "market-square", "Help run the stalls and the tombola.", "sales"),
        ("Dawn Birdwatching Walk", "river-bank", "Herons, kingfishers and otters if you are lucky.", None),
        ("First Aid Course", "library", "The district nurse teaches resuscitation and bandaging.", "nursing"),
        ("Quiz Night Fundraiser", "community-hall", "Teams compete to raise money for the lifeboat.", None),
        ("Village Green Cricket", "village-green", "A gentle afternoon of cricket and sandwiches.", "fitness"),
    ),
    prices=(
        ("Walk along the towpath", "free_low_cost", 0), ("Bag of chips", "free_low_cost", 4),
        ("Newspaper", "free_low_cost", 2), ("Bus to the county town", "free_low_cost", 6),
        ("Pint at the Otter's Rest", "daily_entertainment", 5), ("Cream tea", "daily_entertainment", 9),
        ("Fishing day permit", "daily_entertainment", 12), ("Bunch of flowers", "daily_entertainment", 10),
        ("Fish and chips supper", "daily_entertainment", 14),
        ("Sunday roast at the pub", "social_mid_frequency", 30), ("Ceilidh ticket and drinks", "social_mid_frequency", 25),
        ("Trip to the county cinema", "social_mid_frequency", 35), ("Rowing club monthly fee", "social_mid_frequency", 45),
        ("Dinner at the Kingfisher", "social_mid_frequency", 70),
        ("Waxed jacket", "mid_range_valuable", 220), ("Carbon fishing rod", "mid_range_valuable", 180),
        ("Secondhand bicycle", "mid_range_valuable", 120), ("Weekend in the city", "mid_range_valuable", 350),
        ("Leather walking boots", "mid_range_valuable", 140), ("Hen house and chickens", "mid_range_valuable", 260),
        ("Secondhand car", "large_luxury", 2500), ("Wooden rowing boat", "large_luxury", 1800),
        ("Week by the sea in Cornwall", "large_luxury", 1200), ("Ride-on mower", "large_luxury", 900),
        ("Piano for the parlour", "large_luxury", 2200),
    ),
    hobbies={"fitness": "rows with the club on summer evenings", "gardening": "grows prize marrows on the allotment",
             "fishing": "fishes from the old pier at dusk", "baking": "bakes for every church fête",
             "history": "collects old photographs of the town", "music": "sings in the church choir",
             "dancing": "never misses a ceilidh", "carpentry": "carves birds from driftwood"},
    values=("Look after your neighbours.", "A day's work for a day's pay.", "Tradition keeps us together.",
            "Never waste what the land gives.", "Say what you mean.", "Family before everything.",
            "Leave the river cleaner than you found it.", "Change is not always progress.",
            "Everyone deserves a second chance.", "Keep your word.", "Live simply.", "Faith and good works."),
    motivations={
        "worker": ("To keep the town alive for the next generation.", "To build a good life without leaving the valley.",
                   "To be respected in the town the way my father was.", "To find someone to share the quiet evenings with."),
        "young": ("To decide whether my future is here or in the city.", "To be the first in my family to go to university."),
        "retired": ("To stay useful and keep my friends close.",),
    },
    deposits={"worker": (3500, 0.8, 200, 30000), "retired": (12000, 0.8, 500, 60000), "young": (800, 0.6, 100, 5000)},
    extra_income={"young": (0.5, 40, 120, 25), "worker": (0.05, 50, 150, 99)},
    base_skills={"worker": {"fitness": (10, 50)}, "retired": {"gardening": (20, 80), "history": (10, 60)},
                 "young": {"farming": (5, 30), "fitness": (20, 60)}},
    acquaintances=8.0,
    mix=(0.35, 0.35),
    styles={"": ("a waxed jacket and wellingtons", "a flat cap and a tweed waistcoat", "work overalls", "a fleece and jeans",
                 "a hand-knitted jumper", "muddy jeans and a checked shirt", "a weatherproof smock", "corduroys and a gilet"),
            "retired": ("a flat cap and a tweed waistcoat", "a hand-knitted cardigan", "a Sunday-best coat", "a waxed jacket")},
    hair=("a shock of red hair", "wind-tangled brown hair", "a neat brown bob", "a ponytail",
          "close-cropped dark hair", "sandy curls", "a woollen hat over wiry hair"),
    unemployed=0.03,
)

THEME_TABLE: dict[str, Theme] = {t.name: t for t in (APARTMENT, SCHOOL, RIVERTOWN)}
