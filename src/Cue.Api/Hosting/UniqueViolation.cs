using Npgsql;

namespace Cue.Api.Hosting;

/// <summary>Recognises a unique index refusing a write, whichever Marten exception wraps it.</summary>
public static class UniqueViolation
{
    public static bool Of(Exception exception, string constraint)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg && pg.ConstraintName == constraint)
            {
                return true;
            }
        }

        return false;
    }
}
