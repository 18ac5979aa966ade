window.onload = () => {
    const root = document.getElementById('swagger-ui');
    window.ui = SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: '#swagger-ui' });
};
