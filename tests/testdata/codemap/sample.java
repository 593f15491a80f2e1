package com.example.orders;

import java.util.ArrayList;
import java.util.List;

/** Orders placed by one customer. */
public class OrderBook implements Iterable<Order> {
    private final List<Order> orders = new ArrayList<>();

    public OrderBook() {
        this(List.of());
    }

    public OrderBook(List<Order> initial) {
        orders.addAll(initial);
    }

    @Override
    public java.util.Iterator<Order> iterator() {
        return orders.iterator();
    }

    public <T extends Order> void add(T order) throws IllegalStateException {
        orders.add(order);
    }

    interface Listener {
        void onAdded(Order order);
    }

    enum Status {
        OPEN,
        CLOSED;

        boolean isFinal() {
            return this == CLOSED;
        }
    }
}
