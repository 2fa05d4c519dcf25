"""Word lists for the synthetic registry: fictional but plausible names, streets and addresses.

Every combination drawn from these lists is made up. The lists cover the three Belgian language
regions (Flemish, French-speaking Wallonia and Brussels, the German-speaking East) and a few
other origins common in Belgian registers, so that letters meet accented and non-Latin-1
characters (é ë ç ï ß Ø Ł ñ ş ...) in tests and demos.
"""

from __future__ import annotations

from dataclasses import dataclass

# fmt: off
# (the lists are kept dense on purpose; one name a line would run to a thousand lines)


@dataclass(frozen=True, slots=True)
class NamePool:
    """Family names and given names (by sex) of one language region or origin."""

    origin: str
    family_names: tuple[str, ...]
    male_given_names: tuple[str, ...]
    female_given_names: tuple[str, ...]


FLEMISH = NamePool(
    origin="flemish",
    family_names=(
        "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
        "Wouters", "De Smet", "Vermeulen", "Van den Bossche", "Van de Velde", "De Clercq",
        "Hermans", "Pauwels", "Aerts", "Michiels", "Desmet", "De Vos", "Verstraete",
        "Lambrechts", "Cools", "Coppens", "Van Damme", "Martens", "Verhoeven", "Van Dyck",
        "Claeys", "Smets", "Stevens", "De Backer", "Wuyts", "Verbruggen", "Segers",
        "Vandenberghe", "Vanden Broeck", "D'Hondt", "De Wilde", "Bogaert", "Declercq",
        "Van Hoof", "Maertens", "Van Acker", "Baert", "Verschueren", "De Meyer", "Vercauteren",
        "Van Hecke", "De Coninck", "Timmermans", "Dierickx", "Van Roey", "Huysmans", "Cnudde",
        "Van Laere", "De Schepper", "Beerens", "Moens", "Van Impe", "Vanderhaeghen", "Geens",
    ),
    male_given_names=(
        "Jan", "Pieter", "Luc", "Marc", "Koen", "Bart", "Wim", "Tom", "Stijn", "Jens", "Lars",
        "Wout", "Arne", "Seppe", "Lucas", "Finn", "Noah", "Louis", "Vic", "Jules", "Michiel",
        "Joris", "Dirk", "Geert", "Frans", "Jozef", "Michaël", "Raphaël", "Rik", "Ward",
        "Mathis", "Bram", "Jef", "Staf", "Gilles", "Wannes", "Kobe", "Lowie", "Rens", "Siebe",
    ),
    female_given_names=(
        "An", "Els", "Katrien", "Sofie", "Lien", "Femke", "Marie", "Emma", "Lotte", "Julie",
        "Hanne", "Ine", "Leen", "Griet", "Mieke", "Nele", "Zoë", "Noor", "Lore", "Elise", "Fien",
        "Jana", "Liesbeth", "Maria", "Godelieve", "Agnes", "Joke", "Veerle", "Chloë", "Anaïs",
        "Anneleen", "Roos", "Saar", "Marthe", "Ilse", "Hilde", "Ellen", "Mona", "Lieve", "Nore",
    ),
)

FRENCH = NamePool(
    origin="french",
    family_names=(
        "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "Lefèvre",
        "Lejeune", "Renard", "Dumont", "François", "Collard", "Mathieu", "Henry", "Fontaine",
        "Denis", "Gérard", "Piette", "Delvaux", "Jacquet", "Wilmotte", "Gilson", "Lemaire",
        "Dufour", "Hubert", "Thiry", "Noël", "Bodart", "Poncelet", "Duchêne", "Rémy",
        "Stassart", "Baudouin", "Delhaye", "Lecomte", "Léonard", "Bastin", "Masson", "Pirard",
        "Marchal", "Goffin", "Moreau", "Bertrand", "Rousseau", "Gaspard", "Delcour", "Wathelet",
        "Bouchât", "Hennebert", "Dethier", "Gillard", "Lhoest", "Defrêne", "Massart", "Jadot",
    ),
    male_given_names=(
        "Jean", "Pierre", "Michel", "Philippe", "Luc", "Marc", "Christophe", "Olivier",
        "Nicolas", "Thomas", "Maxime", "Antoine", "Julien", "Hugo", "Louis", "Arthur", "Jules",
        "Théo", "Noah", "Gabriel", "Raphaël", "Mathéo", "Benoît", "François", "Jérôme",
        "Cédric", "Frédéric", "Stéphane", "Grégoire", "Léon", "Noël", "Joël", "Adrien",
        "Baptiste", "Loïc", "Gaëtan", "Aurélien", "Hervé", "Anaël", "Émile",
    ),
    female_given_names=(
        "Marie", "Anne", "Isabelle", "Catherine", "Nathalie", "Sophie", "Julie", "Camille",
        "Emma", "Louise", "Léa", "Chloé", "Manon", "Zoé", "Océane", "Clémence", "Hélène",
        "Françoise", "Geneviève", "Mélanie", "Noémie", "Maëlle", "Anaïs", "Élodie", "Inès",
        "Alice", "Juliette", "Thérèse", "Céline", "Joëlle", "Aurélie", "Margaux", "Héloïse",
        "Zoë", "Bénédicte", "Cécile", "Josée", "Aline", "Lucie", "Romane",
    ),
)

GERMAN = NamePool(
    origin="german",
    family_names=(
        "Müller", "Schmitz", "Kohnen", "Lentz", "Jost", "Heinen", "Kessler", "Groß",
        "Schröder", "Weber", "Meyer", "Krings", "Hilgers", "Pankert", "Pauels", "Cremer",
        "Thomé", "Förster", "Schäfer", "Wintgens", "Mockel", "Kreusch", "Lambertz", "Keutgen",
        "Kever", "Langer", "Reuter", "Brüll", "Nießen", "Fickers", "Theißen", "Jüngling",
        "Hannen", "Mertes", "Göbbels", "Offermann", "Rauw", "Schleck", "Hüwels", "Franzen",
    ),
    male_given_names=(
        "Jürgen", "Stefan", "Michael", "Thomas", "Andreas", "Günther", "Klaus", "Karl-Heinz",
        "Lukas", "Jonas", "Leon", "Elias", "Niklas", "Tim", "Björn", "Jörg", "Sven", "Ralf",
        "Dieter", "Josef", "Matthias", "Felix", "Moritz", "Hubert", "Jens", "Till",
    ),
    female_given_names=(
        "Anna", "Maria", "Sabine", "Petra", "Monika", "Ursula", "Jutta", "Birgit", "Lena",
        "Lea", "Hannah", "Mia", "Sophie", "Johanna", "Käthe", "Ute", "Gisela", "Anneliese",
        "Marlene", "Jana", "Lara", "Carina", "Annegret", "Rosemarie", "Jördis", "Liesel",
    ),
)

# Other origins frequent in Belgian registers. Family names are given in one form even where the
# language inflects them by sex (Polish -ski/-ska): a register stores what the civil status says.
OTHER_ORIGINS: tuple[NamePool, ...] = (
    NamePool(
        origin="polish",
        family_names=("Nowak", "Wójcik", "Łukaszewicz", "Mazur", "Krawczyk", "Zając", "Król",
                      "Wróbel", "Dąbrowski", "Kowalczyk", "Szymański", "Woźniak"),
        male_given_names=("Łukasz", "Piotr", "Krzysztof", "Paweł", "Michał", "Tomasz",
                          "Wojciech", "Grzegorz"),
        female_given_names=("Agnieszka", "Małgorzata", "Katarzyna", "Zofia", "Joanna",
                            "Urszula", "Bożena", "Jadwiga"),
    ),
    NamePool(
        origin="italian",
        family_names=("Rossi", "Russo", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
                      "Marino", "De Luca", "Lombardi", "Caruso", "Sciortino"),
        male_given_names=("Giuseppe", "Salvatore", "Nicolò", "Marco", "Luca", "Giovanni",
                          "Calogero", "Vincenzo"),
        female_given_names=("Giulia", "Francesca", "Chiara", "Giovanna", "Rosa", "Carmela",
                            "Concetta", "Antonella"),
    ),
    NamePool(
        origin="spanish",
        family_names=("García", "Fernández", "Muñoz", "Martínez", "Peña", "Núñez", "Ibáñez",
                      "Gómez", "Sánchez", "Rodríguez"),
        male_given_names=("José", "Íñigo", "Álvaro", "Iñaki", "Javier", "Sergio", "Andrés"),
        female_given_names=("María", "Lucía", "Begoña", "Nuria", "Pilar", "Ainhoa", "Inés"),
    ),
    NamePool(
        origin="portuguese",
        family_names=("Silva", "Santos", "Gonçalves", "Conceição", "Magalhães", "Araújo",
                      "Pereira", "Ferreira"),
        male_given_names=("João", "Gonçalo", "António", "Tiago", "Rui", "Sebastião"),
        female_given_names=("Inês", "Joana", "Leonor", "Beatriz", "Mariana", "Conceição"),
    ),
    NamePool(
        origin="turkish",
        # Turkish spelling: the dotless i (U+0131) is a letter of its own, not a look-alike.
        family_names=("Yılmaz", "Kaya", "Demir", "Çelik", "Şahin", "Öztürk", "Aydın",  # noqa: RUF001
                      "Yıldız", "Arslan", "Doğan"),  # noqa: RUF001
        male_given_names=("Mehmet", "Mustafa", "Gökhan", "Emre", "Burak", "Hüseyin", "Oğuz"),
        female_given_names=("Ayşe", "Fatma", "Elif", "Zeynep", "Gülşen", "Büşra", "Özlem"),
    ),
    NamePool(
        origin="moroccan",
        family_names=("El Amrani", "Benali", "El Idrissi", "Bouzid", "Azzouzi", "El Khattabi",
                      "Boukhari", "Haddou", "Ait Ouali", "Ben Said"),
        male_given_names=("Mohamed", "Youssef", "Karim", "Mehdi", "Rachid", "Hamza", "Ayoub",
                          "Bilal"),
        female_given_names=("Fatima", "Khadija", "Yasmina", "Nadia", "Samira", "Imane",
                            "Salma", "Naïma"),
    ),
    NamePool(
        origin="nordic",
        family_names=("Nørgaard", "Søndergaard", "Jørgensen", "Ødegård", "Åberg",
                      "Lindqvist", "Bjørnstad", "Holm"),
        male_given_names=("Søren", "Bjørn", "Øystein", "Anders", "Mikkel", "Håkon"),
        female_given_names=("Ingrid", "Sigrid", "Åsa", "Astrid", "Kirsten", "Solveig"),
    ),
    NamePool(
        origin="romanian",
        family_names=("Popescu", "Ionescu", "Dumitru", "Stănescu", "Constantin", "Răducanu"),
        male_given_names=("Andrei", "Mihai", "Ștefan", "Ionuț", "Bogdan", "Cătălin"),
        female_given_names=("Ioana", "Elena", "Andreea", "Mădălina", "Ramona", "Alina"),
    ),
    NamePool(
        origin="congolese",
        family_names=("Mbuyi", "Kalonji", "Tshibangu", "Ilunga", "Mukendi", "Lukusa",
                      "Kasongo", "Nzuzi"),
        male_given_names=("Patrick", "Didier", "Christian", "Trésor", "Dieudonné", "Héritier"),
        female_given_names=("Grâce", "Divine", "Esther", "Merveille", "Nadège", "Bénie"),
    ),
)


def _compose(stems: tuple[str, ...], endings: tuple[str, ...]) -> tuple[str, ...]:
    """Every stem with every ending; a stem ending in a space starts a separate word."""
    return tuple(
        f"{stem}{ending.capitalize()}" if stem.endswith(" ") else f"{stem}{ending}"
        for stem in stems
        for ending in endings
    )


DUTCH_STREETS: tuple[str, ...] = _compose(
    (
        "Kerk", "Molen", "School", "Stations", "Dorps", "Linden", "Beuken", "Eiken",
        "Kastanje", "Meers", "Veld", "Bos", "Brug", "Hoog", "Nieuw", "Zand", "Klooster",
        "Kapel", "Sint-Jans", "Sint-Pieters", "Hof", "Akker", "Vijver", "Bloemen", "Rozen",
        "Tulpen", "Berken", "Populieren", "Wilgen", "Koning Albert", "Leopold", "Keizer Karel",
        "Begijnhof", "Visserij", "Brabant", "Vlaanderen", "Leie", "Schelde", "Kouter",
    ),
    ("straat", "laan", "plein", "dreef", "weg"),
)

_FRENCH_STREET_NAMES = (
    "de la Station", "de l'Église", "du Moulin", "des Tilleuls", "du Marché",
    "Émile Vandervelde", "Albert Ier", "de la Loi", "des Écoles", "du Château", "de Namur",
    "des Prés", "Saint-Lambert", "Léopold II", "des Déportés", "de l'Abbaye", "du Bois",
    "des Alliés", "Reine Astrid", "des Hêtres", "de la Fontaine", "du Général Jacques",
    "Fernand Cocq", "des Sorbiers", "de Bruxelles",
)
FRENCH_STREETS: tuple[str, ...] = (
    *(f"{kind} {name}" for kind in ("Rue", "Avenue", "Place", "Chaussée", "Boulevard",
                                     "Chemin", "Clos") for name in _FRENCH_STREET_NAMES),
    # Adjectives agree with the feminine street words only.
    *(f"{kind} {adjective}" for kind in ("Rue", "Avenue", "Place")
      for adjective in ("Royale", "Neuve", "Haute", "Verte")),
)

GERMAN_STREETS: tuple[str, ...] = _compose(
    (
        "Haupt", "Kirch", "Berg", "Bahnhof", "Schul", "Mühlen", "Linden", "Garten", "Wald",
        "Feld", "Hoch", "Kloster", "Marien", "Rosen", "Birken", "Talsperren", "Gospert",
        "Aachener ", "Herbesthaler ", "Malmedyer ", "Neu", "Sonnen", "Eichen",
    ),
    ("straße", "weg", "platz"),
)

# Localities of bilingual Brussels as written in Dutch, for persons who use Dutch (domain.md
# §4.1: one language per address).
DUTCH_LOCALITY_NAMES: dict[str, str] = {
    "Bruxelles": "Brussel",
    "Laeken": "Laken",
    "Neder-Over-Heembeek": "Neder-Over-Heembeek",
    "Haren": "Haren",
}

# Made-up addresses abroad for emigrated persons: (ISO country code, street, postal code,
# locality), each in the destination country's format (domain.md §4.3).
FOREIGN_ADDRESSES: tuple[tuple[str, str, str, str], ...] = (
    ("FR", "Rue de Rivoli", "75001", "Paris"),
    ("FR", "Avenue Jean Jaurès", "59000", "Lille"),
    ("NL", "Keizersgracht", "1015 CJ", "Amsterdam"),
    ("NL", "Wilhelminastraat", "4811 XS", "Breda"),
    ("DE", "Pontstraße", "52062", "Aachen"),
    ("DE", "Königsallee", "40212", "Düsseldorf"),
    ("LU", "Rue de la Gare", "L-1611", "Luxembourg"),
    ("ES", "Calle Mayor", "28013", "Madrid"),
    ("CH", "Bahnhofstrasse", "8001", "Zürich"),
    ("GB", "Baker Street", "NW1 6XE", "London"),
    ("PT", "Rua Augusta", "1100-053", "Lisboa"),
    ("IT", "Via del Corso", "00186", "Roma"),
    ("PL", "ul. Marszałkowska", "00-624", "Warszawa"),
    ("MA", "Boulevard Mohammed V", "20000", "Casablanca"),
)
# fmt: on
