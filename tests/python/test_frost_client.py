"""An independent client: Fraunhofer's frost-sta-client (PyPI) against qingshui.

Builds a small network by deep insert, posts observations with CreateObservations (dataArray),
and reads them back with $filter, $expand, $orderby and nextLink iteration."""

import frost_sta_client as fsc
import pytest
from frost_sta_client.model.ext.data_array_value import DataArrayValue
from frost_sta_client.model.ext.data_array_document import DataArrayDocument
from geojson import Point

STATIONS = [("L01", 106.430, 26.590), ("L06", 106.380, 26.470), ("W01", 106.440, 26.578)]
PARAMETERS = [("tp", "总磷 TP", "mg/L"), ("do", "溶解氧 DO", "mg/L")]
HOURS = 120  # five days of hourly values per datastream


def value(station_index, parameter_index, hour):
    # Deterministic and distinct per series, so read-backs can be checked exactly.
    return round(0.01 * (station_index + 1) + parameter_index * 5 + hour * 0.001, 6)


def build_network(service):
    things = []
    for s_idx, (code, lon, lat) in enumerate(STATIONS):
        location = fsc.Location(
            name=f"{code} position",
            description="schematic position",
            encoding_type="application/geo+json",
            location=Point((lon, lat)),
        )
        datastreams = []
        for p_idx, (pcode, pname, unit) in enumerate(PARAMETERS):
            datastreams.append(
                fsc.Datastream(
                    name=f"{code} {pcode}",
                    description=f"{pname} at {code}",
                    observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                    unit_of_measurement=fsc.UnitOfMeasurement(name=unit, symbol=unit, definition="http://unitsofmeasure.org/ucum.html#mg/L"),
                    sensor=fsc.Sensor(name=f"{code} {pcode} probe", description="probe", encoding_type="text/html", metadata="https://example.invalid/probe"),
                    observed_property=fsc.ObservedProperty(name=pname, definition=f"urn:qingshui:parameter:{pcode}", description=pname),
                    properties={"parameter": pcode},
                )
            )
        thing = fsc.Thing(
            name=code,
            description=f"station {code}",
            properties={"code": code, "index": s_idx},
            locations=[location],
            datastreams=datastreams,
        )
        service.create(thing)
        things.append(thing)
    return things


def test_network_observations_and_queries(server):
    service = fsc.SensorThingsService(server)
    build_network(service)

    things = list(service.things().query().expand("Locations,Datastreams").list())
    assert sorted(t.name for t in things) == ["L01", "L06", "W01"]
    by_name = {t.name: t for t in things}
    assert by_name["L06"].locations.entities[0].location["coordinates"] == [106.38, 26.47]
    assert len(by_name["W01"].datastreams.entities) == 2

    # CreateObservations with dataArray: HOURS values per datastream.
    document = DataArrayDocument()
    for s_idx, (code, _, _) in enumerate(STATIONS):
        for p_idx, (pcode, _, _) in enumerate(PARAMETERS):
            ds = next(d for d in by_name[code].datastreams.entities if d.name == f"{code} {pcode}")
            dav = DataArrayValue()
            dav.datastream = ds
            dav.components = {DataArrayValue.Property.PHENOMENON_TIME, DataArrayValue.Property.RESULT}
            for hour in range(HOURS):
                obs = fsc.Observation(
                    phenomenon_time=f"2026-03-{10 + hour // 24:02d}T{hour % 24:02d}:00:00Z",
                    result=value(s_idx, p_idx, hour),
                    datastream=ds,
                )
                dav.add_observation(obs)
            document.add_data_array_value(dav)
    created = service.observations().create(document)
    assert len(created) == len(STATIONS) * len(PARAMETERS) * HOURS
    assert all(o.self_link.startswith(server + "/Observations(") for o in created)

    # $filter + $orderby + nextLink iteration (server pages of 100).
    ds = next(d for d in by_name["L06"].datastreams.entities if d.name == "L06 tp")
    results = list(
        service.observations()
        .query()
        .filter(f"Datastream/id eq {ds.id} and result ge {value(1, 0, 0)}")
        .orderby("phenomenonTime", "ASC")
        .list()
    )
    assert len(results) == HOURS
    assert [o.result for o in results] == [value(1, 0, h) for h in range(HOURS)]

    # $expand with nested options, read through the client.
    tp_streams = list(
        service.datastreams()
        .query()
        .filter("properties/parameter eq 'tp'")
        .expand("Thing,Observations($orderby=phenomenonTime desc;$top=1)")
        .list()
    )
    assert len(tp_streams) == 3
    for d in tp_streams:
        s_idx = [c for c, _, _ in STATIONS].index(d.thing.name)
        latest = d.observations.entities[0]
        assert latest.result == value(s_idx, 0, HOURS - 1)

    # A geospatial filter through the client.
    near_intake = list(
        service.things().query().filter("geo.distance(Locations/location, geography'POINT (106.44 26.578)') lt 0.005").list()
    )
    assert [t.name for t in near_intake] == ["W01"]

    # $count through the client's query object.
    counted = service.observations().query().count().top(1).list()
    assert counted.count == len(STATIONS) * len(PARAMETERS) * HOURS

    # JSON-Patch (RFC 6902) through the client: it sends application/json-patch+json.
    thing = service.things().find(by_name["L06"].id)
    service.patch(thing, [
        {"op": "test", "path": "/name", "value": "L06"},
        {"op": "add", "path": "/properties/owner", "value": "lake bureau"},
        {"op": "replace", "path": "/description", "value": "patched by frost-sta-client"},
    ])
    patched = service.things().find(thing.id)
    assert patched.description == "patched by frost-sta-client"
    assert patched.properties["owner"] == "lake bureau"
    # A failing test changes nothing and surfaces as the client's error.
    with pytest.raises(Exception):
        service.patch(thing, [
            {"op": "replace", "path": "/description", "value": "must not stick"},
            {"op": "test", "path": "/name", "value": "not L06"},
        ])
    assert service.things().find(thing.id).description == "patched by frost-sta-client"

    # Update and delete through the client.
    thing = service.things().find(by_name["W01"].id)
    thing.description = "drinking-water intake, target Class II"
    service.update(thing)
    assert service.things().find(thing.id).description == "drinking-water intake, target Class II"
    service.delete(thing)
    remaining = list(service.observations().query().filter("Datastream/Thing/name eq 'W01'").list())
    assert remaining == []
