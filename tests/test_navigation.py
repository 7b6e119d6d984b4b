"""The menu fits the person: grouped in sections, only the pages their scope has something for, each page
once, the page being shown marked, and breadcrumbs on every page."""
import re

import pytest

from app.sensors.models import BaseStation

MENU = re.compile(r'<nav id="menu".*?</nav>', re.S)


def _menu(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    menu = MENU.search(body).group(0)
    sections = re.findall(r'data-section="([\w-]+)"', menu)
    links = re.findall(r'<a class="nav-link[^"]*" href="([^"]+)"', menu)
    labels = [re.sub(r"\s+", " ", t).strip() for t in re.findall(r'<a class="nav-link[^>]*>(.*?)</a>', menu, re.S)]
    return body, sections, links, labels


def _breadcrumbs(body):
    crumbs = re.search(r'<nav [^>]*id="breadcrumbs">(.*?)</nav>', body, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<li[^>]*>(.*?)</li>", crumbs.group(1), re.S)]


def test_a_scope_without_off_street_parks_sees_no_lane_pages(tree, client_as):
    _, sections, links, _ = _menu(client_as("groupa1"))  # Alpha Street One and Two, both on-street
    assert "off_street" not in sections
    assert not [href for href in links if href.startswith(("/lot/lanes", "/site-link"))]
    assert "/street/berths" in links and "/inspections/tasks" in links


def test_an_off_street_scope_sees_lanes_and_no_street_pages(tree, client_as):
    _, sections, links, _ = _menu(client_as("parkp3"))  # Alpha Garage Three, off-street
    assert "/lot/lanes" in links and "/site-link/" in links
    assert "street" not in sections and "/street/berths" not in links and "/tracks/live" not in links
    _, _, links, _ = _menu(client_as("citya"))  # the city holds both kinds
    assert "/lot/lanes" in links and "/street/berths" in links


def test_sensor_pages_only_where_there_are_sensors(tree, client_as, db):
    _, sections, links, _ = _menu(client_as("parkp1"))
    assert "sensors" not in sections and "/orders/berth-check" not in links
    db.session.add(BaseStation(park_id=tree.p1.id, serial="BS-NAV", key_hash="x" * 64, key_hint="x"))
    db.session.commit()
    _, sections, links, _ = _menu(client_as("parkp1"))
    assert "sensors" in sections and "/sensors/" in links and "/orders/berth-check" in links
    _, sections, _, _ = _menu(client_as("parkp2"))  # the station is in the other park
    assert "sensors" not in sections


@pytest.mark.parametrize("username", ["root", "citya", "parkp1"])
def test_no_page_and_no_name_twice_in_a_menu(tree, client_as, username):
    _, sections, links, labels = _menu(client_as(username))
    assert len(links) > 5
    assert len(set(links)) == len(links)
    assert len(set(labels)) == len(labels)
    assert len(set(sections)) == len(sections)


def test_the_current_page_is_marked_and_its_parent_for_a_page_below_it(tree, client_as):
    client = client_as("parkp1")
    body, *_ = _menu(client, "/street/berths")
    assert re.findall(r'<a class="nav-link active" href="([^"]+)"\s*aria-current="page"', body) == ["/street/berths"]
    body, *_ = _menu(client, "/street/segments/new")
    assert re.findall(r'<a class="nav-link active" href="([^"]+)"\s*aria-current="true"', body) == ["/street/segments"]


def test_breadcrumbs_on_list_detail_and_account_pages(tree, client_as):
    client = client_as("parkp1")
    assert _breadcrumbs(_menu(client, "/street/berths")[0]) == ["Home", "Street operations", "Berths"]
    crumbs = _breadcrumbs(_menu(client, "/street/segments/new")[0])
    assert crumbs[:3] == ["Home", "Street operations", "Berth segments"] and len(crumbs) == 4
    assert _breadcrumbs(client.get("/account/password").get_data(as_text=True))[0] == "Home"
    assert _breadcrumbs(_menu(client, "/")[0]) == ["Overview", "Dashboard"]


def test_every_menu_page_has_breadcrumbs(tree, client_as):
    client = client_as("citya")
    _, _, links, _ = _menu(client)
    for href in links:
        body = client.get(href).get_data(as_text=True)
        assert 'id="breadcrumbs"' in body and 'aria-current="page"' in body, href


def test_the_menu_is_a_drawer_with_a_button_and_filters_fold(tree, client_as):
    body, *_ = _menu(client_as("parkp1"), "/orders")
    assert 'id="menu-button"' in body and 'data-bs-target="#sidebar"' in body
    assert re.search(r'<aside class="offcanvas-md[^"]*" id="sidebar"', body)
    assert re.search(r'<form class="[^"]*filters[^"]*collapse d-md-flex', body)
    assert "cdn" not in body.lower()
