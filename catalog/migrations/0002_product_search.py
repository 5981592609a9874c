from django.contrib.postgres.operations import TrigramExtension
from django.contrib.postgres.search import SearchVectorField
from django.db import migrations

INDEXES = (
    "CREATE INDEX IF NOT EXISTS catalog_prod_search ON catalog_product USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS catalog_prod_name_trgm ON catalog_product "
    "USING gin (name gin_trgm_ops)",
)


def create_indexes(apps, schema_editor):
    """GIN indexes exist on PostgreSQL only (SQLite searches without them)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in INDEXES:
        schema_editor.execute(sql)
    schema_editor.execute(
        """
        UPDATE catalog_product p SET search_vector =
            setweight(to_tsvector('english', p.name), 'A')
            || setweight(to_tsvector('simple', coalesce((
                SELECT string_agg(v.sku, ' ') FROM catalog_variant v WHERE v.product_id = p.id
            ), '')), 'B')
            || setweight(to_tsvector('english', p.description), 'C')
        """
    )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS catalog_prod_search")
    schema_editor.execute("DROP INDEX IF EXISTS catalog_prod_name_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        # pg_trgm (a no-op on other databases).
        TrigramExtension(),
        migrations.AddField(
            model_name="product",
            name="search_vector",
            field=SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
