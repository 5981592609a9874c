from django.db import migrations, models


class Migration(migrations.Migration):
    """A cart is *in checkout* while ``checkout_order_number`` is set (was ``checkout_reference``)."""

    dependencies = [
        ("cart", "0002_cart_checkout_lock"),
    ]

    operations = [
        migrations.RenameField(
            model_name="cart",
            old_name="checkout_reference",
            new_name="checkout_order_number",
        ),
        migrations.AlterField(
            model_name="cart",
            name="checkout_order_number",
            field=models.CharField(
                blank=True,
                help_text="Number of the order being placed; the cart is in checkout while set.",
                max_length=32,
            ),
        ),
    ]
