"""Cities and place names: spellings, ambiguous and qualified names, close matches, LAT,LON parsing."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.errors import InputError
from leonet.ground.cities import find_city, load_cities, normalize_name, parse_lat_lon, resolve_place, top_cities


def test_taipei_is_in_taiwan_with_millions() -> None:
    c = find_city("Taipei")
    assert c.country_a2 == "TW" and c.population > 2_000_000
    assert abs(c.lat_deg - 25.05) < 0.2 and abs(c.lon_deg - 121.5) < 0.2
    assert c.note == ""


def test_spellings_resolve_to_one_city() -> None:
    assert find_city("New York").geonameid == find_city("New York City").geonameid == find_city("new york city").geonameid
    sp = {find_city(n).geonameid for n in ("São Paulo", "Sao Paulo", "SAO PAULO", "sao-paulo")}
    assert len(sp) == 1 and find_city("Sao Paulo").country_a2 == "BR"
    assert normalize_name("St. John's") == normalize_name("St Johns") == "st johns"
    assert find_city("Bombay").name == "Mumbai"  # alternate name, said so in the note
    assert "alternate name" in find_city("Bombay").note


def test_ambiguous_name_picks_most_populous_and_says_so() -> None:
    london = find_city("London")
    assert london.country_a2 == "GB"
    assert "CA" in london.note and "country=" in london.note  # names the other country and how to choose it
    on = find_city("London", country="CA")
    assert on.country_a2 == "CA" and 42 < on.lat_deg < 44 and on.note == ""
    assert find_city("London", country="Canada").geonameid == on.geonameid
    assert resolve_place("London, CA").label == "London, CA"
    notes: list[str] = []
    assert resolve_place("London", notes=notes).label == "London, GB" and len(notes) == 1


def test_qualified_names() -> None:
    assert resolve_place("Portland, OR").lat_deg == pytest.approx(45.52, abs=0.1)
    assert resolve_place("Portland, Maine").lat_deg == pytest.approx(43.66, abs=0.1)
    assert resolve_place("Paris, TX").label == "Paris, US" and resolve_place("Paris, FR").label == "Paris, FR"
    with pytest.raises(InputError, match=r"no city 'Portland' in the US state AK.*US \(OR\)"):
        resolve_place("Portland, AK")
    with pytest.raises(InputError, match="unknown city '6th of Octobre'"):  # not taken for coordinates
        resolve_place("6th of Octobre")


def test_unknown_or_misplaced_city_names_close_matches() -> None:
    with pytest.raises(InputError, match=r"unknown city 'Taipie'.*Taipei \(TW\)"):
        find_city("Taipie")
    with pytest.raises(InputError, match=r"no city 'Taipei' in GB.*TW"):
        find_city("Taipei", country="GB")
    with pytest.raises(InputError, match="unknown country"):
        find_city("Taipei", country="Atlantis")
    with pytest.raises(InputError, match="empty city name"):
        find_city("  ")


def test_top_and_min_population() -> None:
    top = top_cities(10)
    assert len(top) == 10 and np.all(np.diff(top.population) <= 0)
    assert top.population[0] == load_cities().population.max()
    big = load_cities(min_population=1_000_000)
    assert 300 < len(big) < 1000 and big.population.min() >= 1_000_000
    assert len(load_cities()) > 30_000
    with pytest.raises(InputError):
        load_cities(min_population=-1)


@pytest.mark.parametrize(
    "text, lat, lon",
    [("25.03,121.56", 25.03, 121.56), (" -33.87 , 151.21 ", -33.87, 151.21), ("25.03 121.56", 25.03, 121.56),
     ("90,-180", 90.0, -180.0), ("+1.5e1,-.5", 15.0, -0.5)],
)
def test_lat_lon_parsing(text: str, lat: float, lon: float) -> None:
    p = resolve_place(text)
    assert (p.lat_deg, p.lon_deg) == (lat, lon)
    label, la, lo = p  # a (label, lat_deg, lon_deg) tuple
    assert la == lat and lo == lon and "," in label


@pytest.mark.parametrize(
    "text, message",
    [("91,0", "latitude 91 .* outside"), ("0,181", "longitude 181 .* outside"), ("-90.5,10", "latitude"),
     ("1,2,3", "cannot read"), ("25.0,x", "cannot read"), ("25.0", "cannot read"), ("", "empty place"),
     ("Xyzzyqville", "unknown city")],
)
def test_lat_lon_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        resolve_place(text)


def test_parse_lat_lon_direct() -> None:
    assert parse_lat_lon("0,0") == (0.0, 0.0)
    with pytest.raises(InputError, match="latitude first"):
        parse_lat_lon("121.56,25.03")
