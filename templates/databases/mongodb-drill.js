// The steps of a restore drill (DRILL_STEP): the administrator lends the owner the scratch
// database and takes it back; the owner empties it, and counts the documents the catalog's check
// asks for. Names and the filter come from the environment, as data: the filter is Extended JSON,
// parsed, never run.
const env = process.env;
const connection = new Mongo(`mongodb://${env.DB_HOST}:${env.DB_PORT}/?${env.DB_TLS_OPTIONS}`);
const admin = connection.getDB("admin");
const scratch = connection.getDB(env.DRILL_DATABASE);
// dbAdmin: the owner may drop the scratch database (readWrite alone may not).
const roles = [{ role: "readWrite", db: env.DRILL_DATABASE }, { role: "dbAdmin", db: env.DRILL_DATABASE }];
switch (env.DRILL_STEP) {
  case "lend":
    admin.auth(env.DB_ADMIN_USER, env.DB_ADMIN_PASSWORD);
    admin.grantRolesToUser(env.DB_OWNER, roles);
    break;
  case "clear":
    admin.auth(env.DB_OWNER, env.DB_PASSWORD);
    scratch.dropDatabase();
    break;
  case "check": {
    admin.auth(env.DB_OWNER, env.DB_PASSWORD);
    const found = scratch.getCollection(env.DRILL_COLLECTION).countDocuments(EJSON.parse(env.DRILL_FILTER));
    print(found >= Number(env.DRILL_AT_LEAST));
    break;
  }
  case "take-back":
    admin.auth(env.DB_ADMIN_USER, env.DB_ADMIN_PASSWORD);
    admin.revokeRolesFromUser(env.DB_OWNER, roles);
    break;
  default:
    throw new Error(`no drill step ${env.DRILL_STEP}`);
}
