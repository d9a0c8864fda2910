// Reads a GraphML file with JGraphT 1.5.2's GraphMLImporter, schema validation on, into a
// directed multigraph, and prints nodes and edges (source, type, target) as JSON.
// A .gexf file is read with SimpleGEXFImporter, schema validation off: the schema JGraphT
// bundles is GEXF 1.2draft, which no GEXF 1.3 file passes; the edge type is its `label` (the same as its `kind`).
// Usage: java JGraphTRead FILE.graphml|FILE.gexf
import java.io.FileReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jgrapht.Graph;
import org.jgrapht.graph.DefaultEdge;
import org.jgrapht.graph.builder.GraphTypeBuilder;
import org.jgrapht.nio.gexf.SimpleGEXFImporter;
import org.jgrapht.nio.graphml.GraphMLImporter;

public class JGraphTRead {
    public static void main(String[] args) throws Exception {
        Graph<String, DefaultEdge> g = GraphTypeBuilder.<String, DefaultEdge>directed()
            .allowingMultipleEdges(true).allowingSelfLoops(true)
            .edgeClass(DefaultEdge.class).weighted(false).buildGraph();
        Map<DefaultEdge, String> types = new LinkedHashMap<>();
        Map<String, Integer> nodeValues = new LinkedHashMap<>();
        try (Reader r = new FileReader(args[0], StandardCharsets.UTF_8)) {
            if (args[0].endsWith(".gexf")) {
                SimpleGEXFImporter<String, DefaultEdge> importer = new SimpleGEXFImporter<>();
                importer.setSchemaValidation(false);
                importer.setVertexFactory(id -> id);
                importer.addEdgeAttributeConsumer((p, a) -> {
                    if (p.getSecond().equals("label")) types.put(p.getFirst(), a.getValue());
                });
                importer.addVertexAttributeConsumer((p, a) -> nodeValues.merge(p.getSecond(), 1, Integer::sum));
                importer.importGraph(g, r);
            } else {
                GraphMLImporter<String, DefaultEdge> importer = new GraphMLImporter<>();
                importer.setSchemaValidation(true);
                importer.setVertexFactory(id -> id);
                importer.addEdgeAttributeConsumer((p, a) -> {
                    if (p.getSecond().equals("type")) types.put(p.getFirst(), a.getValue());
                });
                importer.addVertexAttributeConsumer((p, a) -> nodeValues.merge(p.getSecond(), 1, Integer::sum));
                importer.importGraph(g, r);
            }
        }
        StringBuilder out = new StringBuilder("{\"nodes\": [");
        String sep = "";
        for (String v : g.vertexSet()) {
            out.append(sep).append(Json.str(v));
            sep = ", ";
        }
        out.append("], \"edges\": [");
        sep = "";
        for (DefaultEdge e : g.edgeSet()) {
            out.append(sep).append("[").append(Json.str(g.getEdgeSource(e))).append(", ")
               .append(Json.str(types.get(e))).append(", ").append(Json.str(g.getEdgeTarget(e))).append("]");
            sep = ", ";
        }
        out.append("], \"node_attribute_values\": {");
        sep = "";
        for (Map.Entry<String, Integer> en : nodeValues.entrySet()) {
            out.append(sep).append(Json.str(en.getKey())).append(": ").append(en.getValue());
            sep = ", ";
        }
        out.append("}}");
        System.out.println(out);
    }
}
