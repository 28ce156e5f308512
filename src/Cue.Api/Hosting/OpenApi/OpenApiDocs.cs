using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Cue.Api.Hosting.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> and its reference page at <c>/docs</c>. Both are
/// public (no key) and otherwise go through the same pipeline as every route. The page is Swagger UI
/// embedded in its package and served by Cue itself, so it works with no internet access.
/// </summary>
public static class OpenApiDocs
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string PagePrefix = "docs";

    public static IServiceCollection AddCueOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddOperationTransformer<OperationDocsTransformer>();
            options.AddDocumentTransformer<ContractDocumentTransformer>();
        });

    public static WebApplication MapCueOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = PagePrefix;
            ui.DocumentTitle = "Cue API v1";
            ui.SwaggerEndpoint(DocumentPath, "Cue API v1");
        });
        return app;
    }
}

/// <summary>Applies <see cref="OperationDocs"/> to each operation: summary, description, parameters, bodies and every response.</summary>
internal sealed class OperationDocsTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var key = context.Description.HttpMethod + " /" + context.Description.RelativePath;
        if (!OperationDocs.All.TryGetValue(key, out var doc))
        {
            // Left bare on purpose: a test fails on any operation without an entry.
            return Task.CompletedTask;
        }

        var document = context.Document!;
        operation.Summary = doc.Summary;
        operation.Description = doc.Description;
        operation.OperationId = OperationId(key);
        operation.Tags = new HashSet<OpenApiTagReference> { new(doc.Tag, document) };
        operation.Security = doc.Auth ? [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ContractDocumentTransformer.Bearer, document)] = [] }] : [];

        var parameters = (operation.Parameters ?? []).Where(p => p.In != ParameterLocation.Query).ToList();
        if (key.Contains("{id}", StringComparison.Ordinal) && !parameters.Any(p => p.Name == "id"))
        {
            parameters.Add(new OpenApiParameter { Name = "id", In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        }

        foreach (var query in doc.Query ?? [])
        {
            parameters.Add(new OpenApiParameter
            {
                Name = query.Name,
                In = ParameterLocation.Query,
                Description = query.Description,
                Schema = new OpenApiSchema { Type = query.Integer ? JsonSchemaType.Integer : JsonSchemaType.String },
            });
        }

        operation.Parameters = parameters;
        if (doc.Request is not null)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = doc.RequestRequired,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchemaReference(doc.Request, document) } },
            };
        }

        operation.Responses = new OpenApiResponses { [Status(doc.Success)] = Success(doc, document) };
        foreach (var group in doc.Errors.GroupBy(e => e.Status).OrderBy(g => g.Key))
        {
            operation.Responses[Status(group.Key)] = new OpenApiResponse
            {
                Description = "Error envelope (§3) with `code` " + string.Join(" or ", group.Select(e => $"`{e.Code}`").Distinct(StringComparer.Ordinal)) + ".",
                Content = Json(new OpenApiSchemaReference(doc.ErrorSchema, document)),
            };
        }

        return Task.CompletedTask;
    }

    private static OpenApiResponse Success(OperationDoc doc, OpenApiDocument document) => doc.Response is null
        ? new OpenApiResponse { Description = doc.Success == StatusCodes.Status204NoContent ? "No content." : "Not returned until the route is built." }
        : new OpenApiResponse { Description = "Success.", Content = Json(new OpenApiSchemaReference(doc.Response, document)) };

    private static Dictionary<string, OpenApiMediaType> Json(IOpenApiSchema schema) => new() { ["application/json"] = new() { Schema = schema } };

    private static string Status(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // "POST /v1/cues/{id}/fire" → "post_v1_cues_id_fire": stable, and unique because the keys are.
    private static string OperationId(string key) =>
        string.Join('_', key.ToLowerInvariant().Split([' ', '/', '{', '}', '-'], StringSplitOptions.RemoveEmptyEntries));
}

/// <summary>Adds the document's title, the bearer scheme, the tags and the contract's component schemas.</summary>
internal sealed class ContractDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string Bearer = "bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Cue API",
            Version = "v1",
            Description = "Cue speaks the CueAPI v1 wire protocol. Every error is the JSON envelope `{\"error\": {\"code\", \"message\", \"status\"}}`; " +
                "every response carries `X-Request-Id`; keyed responses carry `X-RateLimit-*`. Request bodies are JSON objects of at most 1,048,576 bytes.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "`Authorization: Bearer cue_live_…` or `cue_test_…`.",
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        foreach (var (name, schema) in ContractSchemas.All(document))
        {
            document.Components.Schemas[name] = schema;
        }

        document.Tags = OperationDocs.All.Values.Select(d => d.Tag).Distinct(StringComparer.Ordinal).Select(t => new OpenApiTag { Name = t }).ToHashSet();
        return Task.CompletedTask;
    }
}
