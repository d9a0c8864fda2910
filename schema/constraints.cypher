// kg schema: constraints and indexes, applied by `kg load` before any write.
// One statement per block, separated by semicolons. Every statement is idempotent.

// Every record is an :Entity with a unique id (the contract's id rule).
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;

// Every loaded case is a :Case node (id, title, description, records, loaded_at).
CREATE CONSTRAINT case_id IF NOT EXISTS FOR (c:Case) REQUIRE c.id IS UNIQUE;

// Lookups by name and title (people, organizations, locations; sources, events).
CREATE INDEX person_name IF NOT EXISTS FOR (n:Person) ON (n.name);
CREATE INDEX organization_name IF NOT EXISTS FOR (n:Organization) ON (n.name);
CREATE INDEX location_name IF NOT EXISTS FOR (n:Location) ON (n.name);
CREATE INDEX source_title IF NOT EXISTS FOR (n:Source) ON (n.title);
CREATE INDEX event_title IF NOT EXISTS FOR (n:Event) ON (n.title);

// Timelines: events and statements by date.
CREATE INDEX event_start IF NOT EXISTS FOR (n:Event) ON (n.start);
CREATE INDEX statement_date IF NOT EXISTS FOR (n:Statement) ON (n.date);

// A denial edge is owned by the statement that made it: found again on reload by this key.
CREATE INDEX denied_statement IF NOT EXISTS FOR ()-[r:DENIED]-() ON (r.statement);

// Full-text search over names, aliases, titles and statement text. Eventually consistent:
// Lucene updates happen after commit, off the write path (loads are much faster); a search
// right after a load may lag it by moments (kg load waits for the index before returning).
CREATE FULLTEXT INDEX entity_text IF NOT EXISTS
  FOR (n:Person|Organization|Location|Source|Event|Statement)
  ON EACH [n.name, n.aliases, n.title, n.text, n.description]
  OPTIONS {indexConfig: {`fulltext.eventually_consistent`: true}};
