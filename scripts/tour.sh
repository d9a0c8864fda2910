#!/usr/bin/env bash
# A short tour of the loaded Chechnya case: counts, then a few questions with `kg cypher`.
set -euo pipefail
KG=${1:-kg}
say() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

say "What is in the graph" "kg cypher 'MATCH (n:Entity) ... count per label'"
$KG cypher "MATCH (n:Entity) UNWIND labels(n) AS label WITH label WHERE label <> 'Entity' RETURN label, count(*) AS nodes ORDER BY label"

say "Who denied what" "kg cypher 'MATCH (who)-[d:DENIED]->(what) ...'"
$KG cypher "MATCH (who)-[d:DENIED]->(what) MATCH (s:Statement {id: d.statement}) RETURN coalesce(who.name, who.title) AS who, coalesce(what.title, what.name) AS denied, s.id AS statement ORDER BY who, denied"

say "Who reported the abduction campaign" "kg cypher 'MATCH (:Event {id: \$id})-[:REPORTED_BY]->(s)-[:PUBLISHED_BY]->(p) ...' -p id=abduction-campaign-2017"
$KG cypher "MATCH (:Event {id: \$id})-[:REPORTED_BY]->(s:Source) OPTIONAL MATCH (s)-[:PUBLISHED_BY]->(p:Organization) RETURN s.title AS source, coalesce(p.name, '(publisher not named)') AS publisher ORDER BY source" -p id=abduction-campaign-2017

say "Where it happened (places inside places)" "kg cypher 'MATCH (e:Event)-[:LOCATED_IN]->()-[:LOCATED_IN*0..]->(:Location {id: \$place}) ...' -p place=russia"
$KG cypher "MATCH (e:Event)-[:LOCATED_IN]->(l:Location)-[:LOCATED_IN*0..]->(:Location {id: \$place}) RETURN e.title AS event, l.name AS place ORDER BY event" -p place=russia

say "Stances taken on the campaign" "kg cypher 'MATCH (sp)-[:SAID]->(s)-[a:ABOUT]->(:Event {id: \$id}) ...'"
$KG cypher "MATCH (sp)-[:SAID]->(s:Statement)-[a:ABOUT]->(:Event {id: \$id}) RETURN a.stance AS stance, sp.name AS speaker, s.verbatim AS verbatim ORDER BY stance, speaker" -p id=abduction-campaign-2017
