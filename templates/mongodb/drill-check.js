// A restore drill's check in the restored copy: whether at least DRILL_AT_LEAST documents of the
// catalog's collection match its filter. Names and the filter come from the environment, as
// data: the filter is Extended JSON, parsed, never run.
const env = process.env;
const found = db.getSiblingDB(env.DB_NAME).getCollection(env.DRILL_COLLECTION).countDocuments(EJSON.parse(env.DRILL_FILTER));
print(found >= Number(env.DRILL_AT_LEAST));
