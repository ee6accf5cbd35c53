namespace ConnectOperator.Hosting;

/// <summary>Builds the operator process (wiring follows).</summary>
public static class OperatorHost
{
    public static WebApplication Build(string[] args) => WebApplication.CreateBuilder(args).Build();
}
