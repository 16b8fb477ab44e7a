DROP TABLE api_keys;
DROP TABLE endpoints;
DROP TABLE tenants;
