// Load a CZML file with CesiumJS's own CzmlDataSource (the loader of every Cesium viewer) and
// print what it made of it as JSON: the clock, the entities, and for the entities asked for
// their reference frame, properties, point colour and positions at the instants asked for.
//   node check_czml.mjs FILE.czml QUERY.json    (QUERY: {"ids": [...], "times": [ISO, ...]})
import fs from "fs";

// Node has no browser Image; CzmlDataSource only compares against it while picking a type.
globalThis.Image ??= class Image {};
const Cesium = await import("cesium");

const [file, queryFile] = process.argv.slice(2);
const czml = JSON.parse(fs.readFileSync(file, "utf8"));
const query = JSON.parse(fs.readFileSync(queryFile, "utf8"));
const ds = await Cesium.CzmlDataSource.load(czml);
const clock = ds.clock;
const out = {
  name: ds.name,
  entities: ds.entities.values.length,
  clock: {start: Cesium.JulianDate.toIso8601(clock.startTime), stop: Cesium.JulianDate.toIso8601(clock.stopTime),
          current: Cesium.JulianDate.toIso8601(clock.currentTime), multiplier: clock.multiplier},
  sats: {},
};
const times = query.times.map((t) => Cesium.JulianDate.fromIso8601(t));
for (const id of query.ids) {
  const e = ds.entities.getById(id);
  const props = {};
  for (const name of e.properties.propertyNames) props[name] = e.properties[name].getValue(times[0]);
  out.sats[id] = {
    name: e.name,
    frame: e.position.referenceFrame === Cesium.ReferenceFrame.FIXED ? "FIXED" : "INERTIAL",
    properties: props,
    rgba: e.point.color.getValue(times[0]).toBytes(),
    positions_m: times.map((t) => { const p = e.position.getValue(t); return p ? [p.x, p.y, p.z] : null; }),
  };
}
console.log(JSON.stringify(out));
