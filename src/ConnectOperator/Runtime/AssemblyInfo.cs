using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("ConnectOperator.Tests")]
